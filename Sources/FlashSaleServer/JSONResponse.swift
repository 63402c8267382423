import FlashSaleCore
import Foundation
import Hummingbird
import NIOCore

/// Responses with JSON bodies, and the reading of JSON request bodies, for every route.
enum JSONResponse {
    static let encoder = JSONCoding.encoder()

    static func make(status: HTTPResponse.Status, body: Data, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func encode(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        make(status: status, body: try encoder.encode(value), headers: headers)
    }

    static func error(_ error: APIError) -> Response {
        var headers: HTTPFields = [:]
        if error.status == 401 { headers[.wwwAuthenticate] = "Bearer realm=\"flashsale-admin\"" }
        if let seconds = error.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
        return make(status: .init(code: error.status), body: error.body, headers: headers)
    }

    static func stored(_ stored: StoredResponse) -> Response {
        make(status: .init(code: stored.status), body: stored.body)
    }
}

extension Request {
    /// The raw body, refused with a 413 past `limit` (checked against Content-Length first).
    func collectBody(limit: Int) async throws(APIError) -> Data {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit { throw .payloadTooLarge }
        do {
            let buffer = try await body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch {
            throw .payloadTooLarge
        }
    }

    /// Decodes a JSON body into `T`, every failure a 4xx of the contract.
    func decodeJSON<T: Decodable>(_ type: T.Type, context: AppRequestContext) async throws(APIError) -> (T, Data) {
        // Content-Type is not checked: clients such as `curl -d` label JSON as a form, and
        // the body is parsed strictly as JSON either way.
        let data = try await collectBody(limit: context.maxUploadSize)
        guard !data.isEmpty else { throw .invalidJSON("The body is empty; send a JSON object.") }
        return (try JSONCoding.decodeBody(type, from: data), data)
    }
}

extension AppRequestContext {
    /// A path parameter that must be a UUID; anything else cannot name a sale or reservation.
    func uuidParameter(_ name: String, notFound: APIError) throws(APIError) -> UUID {
        guard let text = parameters.get(name), let id = UUID(uuidString: text) else { throw notFound }
        return id
    }
}

extension Parameters {
    /// The `limit` query parameter, `fallback` when absent; 422 outside `range`.
    func limit(in range: ClosedRange<Int>, fallback: Int) throws(APIError) -> Int {
        guard let text = get("limit") else { return fallback }
        guard let limit = Int(text), range.contains(limit) else {
            throw .validation("limit must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return limit
    }

    /// The `sale_id` query parameter, nil when absent; 422 when it is not a UUID.
    func saleID() throws(APIError) -> UUID? {
        guard let text = get("sale_id") else { return nil }
        guard let id = UUID(uuidString: text) else { throw .validation("sale_id must be a sale id (a UUID)") }
        return id
    }
}
