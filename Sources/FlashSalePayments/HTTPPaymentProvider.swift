import AsyncHTTPClient
import FlashSaleCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A `PaymentProvider` reached over HTTP: `flashsale psp`, or anything that speaks its
/// contract. 201 is a charge, 402 a decline, any other 4xx `.rejected`; a 5xx, a timeout or
/// a connection lost after sending is `.unknownOutcome`, since the charge may exist; a
/// request that never left is `.notSent` (no connection from the pool in time) or
/// `.unreachable` (refused, connect timeout).
///
/// The `HTTPClient` belongs to whoever made it: by default `HTTPClient.shared`, which is
/// never shut down (and pools 8 connections per host: too few for a sale, whose calls a
/// hanging provider holds for the whole timeout); `makeClient` makes one sized for a sale;
/// `withOwnedClient` makes one and shuts it down when its body returns.
public struct HTTPPaymentProvider: PaymentProvider {
    /// Without a trailing slash, such as `http://127.0.0.1:9090`.
    public let baseURL: String
    /// The longest a whole request may take, connecting included.
    public let requestTimeout: Duration
    private let client: HTTPClient

    public init(baseURL: URL, client: HTTPClient = .shared, requestTimeout: Duration = .seconds(3)) {
        var text = baseURL.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        self.baseURL = text
        self.client = client
        self.requestTimeout = requestTimeout
    }

    /// A client for one provider: up to `connections` concurrent HTTP/1.1 connections (calls
    /// beyond them queue), and `connectTimeout` both for opening a connection and for
    /// waiting in that queue, so a call stuck behind held connections fails as `.notSent`
    /// instead of using up its whole `requestTimeout` unsent. The caller shuts it down.
    public static func makeClient(connections: Int = 64, connectTimeout: Duration = .seconds(1)) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: TimeAmount(connectTimeout))
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Runs `body` with a provider on a client of its own (`makeClient`), shut down
    /// afterwards whether `body` returns or throws.
    public static func withOwnedClient<T>(
        baseURL: URL, requestTimeout: Duration = .seconds(3), connectTimeout: Duration = .seconds(1),
        _ body: (HTTPPaymentProvider) async throws -> T
    ) async throws -> T {
        let client = makeClient(connectTimeout: connectTimeout)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(HTTPPaymentProvider(baseURL: baseURL, client: client, requestTimeout: requestTimeout)))
        } catch {
            result = .failure(error)
        }
        try await client.shutdown()
        return try result.get()
    }

    public func charge(_ request: ChargeRequest, idempotencyKey: String) async throws -> ChargeOutcome {
        let reply = try await send(.POST, "/v1/charges", idempotencyKey: idempotencyKey, json: request)
        switch reply.status {
        case 201: return .succeeded(chargeID: try reply.decode(ChargeCreated.self).id)
        case 402:
            let body = try? reply.decode(ErrorBody.self)
            return .declined(reason: body?.declineCode ?? body?.error ?? "card_declined")
        default: throw reply.failure
        }
    }

    public func charge(idempotencyKey: String) async throws -> ProviderCharge? {
        let query = idempotencyKey.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? idempotencyKey
        let reply = try await send(.GET, "/v1/charges?idempotency_key=\(query)")
        switch reply.status {
        case 200: return try reply.decode(ProviderCharge.self)
        case 404: return nil
        default: throw reply.failure
        }
    }

    public func refund(chargeID: String, idempotencyKey: String) async throws -> ProviderRefund {
        let reply = try await send(.POST, "/v1/refunds", idempotencyKey: idempotencyKey, json: ["charge_id": chargeID])
        guard reply.status == 201 else { throw reply.failure }
        return try reply.decode(ProviderRefund.self)
    }

    public func ledger() async throws -> ProviderLedger {
        let reply = try await send(.GET, "/v1/ledger")
        guard reply.status == 200 else { throw reply.failure }
        return try reply.decode(ProviderLedger.self)
    }

    // MARK: Transport

    /// RFC 3986 unreserved characters: everything else in a key is percent-encoded.
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    struct Reply {
        var status: Int
        var body: ByteBuffer

        /// A 2xx body that cannot be read says nothing of what happened.
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            do {
                return try JSONCoding.decoder().decode(type, from: Data(body.readableBytesView))
            } catch {
                throw PaymentProviderError.unknownOutcome("HTTP \(status) with an unreadable body: \(String(buffer: body).prefix(200))")
            }
        }

        var failure: PaymentProviderError {
            let parsed = try? JSONCoding.decoder().decode(ErrorBody.self, from: Data(body.readableBytesView))
            let message = "\(parsed?.error ?? "http_\(status)"): \(parsed?.message ?? String(String(buffer: body).prefix(200)))"
            return (400..<500).contains(status) ? .rejected(status: status, message: message) : .unknownOutcome("HTTP \(status) \(message)")
        }
    }

    struct ChargeCreated: Decodable { var id: String }

    struct ErrorBody: Decodable {
        var error: String?
        var message: String?
        var declineCode: String?
        enum CodingKeys: String, CodingKey {
            case error, message
            case declineCode = "decline_code"
        }
    }

    private func send(_ method: HTTPMethod, _ path: String, idempotencyKey: String? = nil, json: (some Encodable)? = String?.none)
        async throws -> Reply
    {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONCoding.encoder().encode(json)))
        }
        do {
            let response = try await client.execute(request, timeout: TimeAmount(requestTimeout))
            return Reply(status: Int(response.status.code), body: try await response.body.collect(upTo: 4 << 20))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw PaymentProviderError.unknownOutcome("timeout after \(requestTimeout)")
        } catch let error as HTTPClientError where error == .getConnectionFromPoolTimeout {
            throw PaymentProviderError.notSent("\(method) \(path) was not sent: no pooled connection in time")
        } catch where Self.unreachable(error) {
            throw PaymentProviderError.unreachable("\(method) \(path) was not sent: \(error)")
        } catch {
            throw PaymentProviderError.unknownOutcome("\(method) \(path) failed: \(error)")
        }
    }

    /// Failures to open a connection (before a request's first byte is written; the pool
    /// reports its last one when a queued request's wait ends). Everything else may have
    /// reached the provider.
    static func unreachable(_ error: any Error) -> Bool {
        switch error {
        case let error as HTTPClientError:
            return error == .connectTimeout
        case is NIOConnectionError:
            return true
        case ChannelError.connectTimeout:
            return true
        case let error as IOError:
            return [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH].contains(error.errnoCode)
        default:
            return false
        }
    }
}
