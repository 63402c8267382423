import Foundation
import HTTPTypes
import Testing

@testable import FlashSaleServer

/// API.md "Self-description": the served document is the repository's, and an OpenAPI 3.1
/// document of the routes the router has. (Whether every answer conforms to it is the
/// contract run: scripts/contract-test.sh, run by ContractTests.)
@Suite struct OpenAPIDocumentTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/openapi.json")

    @Test func theServedDocumentIsDocsOpenAPIJSONByteForByte() async throws {
        try await withApp { client, _ in
            let reply = try await client.send(.get, "/openapi.json")
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType]?.hasPrefix("application/json") == true)
            let repository = try Data(contentsOf: Self.file)
            #expect(Data(reply.body.readableBytesView) == repository, "run scripts/embed-openapi.sh after editing docs/openapi.json")
            let document = try #require(try JSONSerialization.jsonObject(with: repository) as? [String: Any])
            #expect(document["openapi"] as? String == "3.1.0")
        }
    }

    @Test func everyDocumentedPathIsARouteAndEveryRouteIsDocumented() async throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.file)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        // A stream never ends, so the router test cannot read its answer: EventsStreamTests
        // follows it over a socket.
        func streams(_ operation: Any?) -> Bool {
            let ok = ((operation as? [String: Any])?["responses"] as? [String: Any])?["200"] as? [String: Any]
            return (ok?["content"] as? [String: Any])?["text/event-stream"] != nil
        }
        let operations: [(path: String, methods: [String])] = paths.map { path, item in
            let item = item as? [String: Any] ?? [:]
            return (path, item.keys.filter { ["get", "post", "patch", "delete"].contains($0) && !streams(item[$0]) })
        }
        try await withApp { client, _ in
            for (path, methods) in operations {
                // Any id will do: an unknown one is a 404 with the route's own error code, not `not_found`.
                let concrete = path.replacingOccurrences(of: "{id}", with: UUID().uuidString.lowercased())
                    .replacingOccurrences(of: "{cidr}", with: "10.0.0.0%2F8").replacingOccurrences(of: "{address}", with: "10.0.0.0")
                    .replacingOccurrences(of: "{length}", with: "8").replacingOccurrences(of: "{action}", with: "pause")
                for method in methods {
                    let reply = try await client.send(HTTPRequest.Method(method.uppercased())!, concrete, headers: adminAuth)
                    #expect(reply.error != "not_found", "\(method.uppercased()) \(path) is documented but not routed")
                }
            }
        }
    }
}
