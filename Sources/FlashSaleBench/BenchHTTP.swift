import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One request of a benchmark's crowd (or of `flashsale crowd`), and its answer.
public enum BenchHTTP {
    public struct Reply: Sendable {
        public var status: Int
        public var body: ByteBuffer
        public var text: String { String(buffer: body) }
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        }
    }

    public static func send(
        _ client: HTTPClient, _ baseURL: String, _ method: String, _ path: String, body: String?, headers: [(String, String)]
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        return Reply(status: Int(response.status.code), body: try await response.body.collect(upTo: 1 << 20))
    }
}
