import Foundation
import Hummingbird
import Mustache
import NIOCore

/// Renders the compiled-in Mustache templates (`PageTemplates`) as HTML responses; shared
/// by the pages and the shield's refusal pages.
struct PageRenderer: Sendable {
    let library: MustacheLibrary

    /// Errors go to a browser (which asks for `text/html`) as a page, and to any other client
    /// as the contract's JSON error body.
    static func wantsHTML(_ request: Request) -> Bool {
        request.headers[values: .accept].contains { $0.contains("text/html") }
    }

    func render(_ template: String, _ view: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
        let html = library.render(view, withTemplate: template) ?? ""
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
