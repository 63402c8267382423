import FlashSaleCore
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request the HTTP parser refused (a control byte in a header value, a bad
/// request line, headers past the decoder's limits) with the contract's JSON error body,
/// then closes the connection: API.md says every error is JSON, and without this handler
/// Hummingbird answers `400` with an empty body before any FlashSale code runs.
///
/// Installed after the HTTP codec, where the decoder's `HTTPParserError` passes on its way
/// to Hummingbird. When a response to an earlier pipelined request is still being written,
/// the refusal waits for that response's end, so the two cannot interleave on the wire.
final class MalformedRequestResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Request heads read whose response has not ended yet.
    private var unanswered = 0
    /// A refusal waiting for the responses still being written.
    private var deferred: APIError?
    /// Between a request's head and its end: an error then belongs to that request's body,
    /// and its route must hear of it (Hummingbird fails the body stream).
    private var inBody = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            unanswered += 1
            inBody = true
        case .end:
            inBody = false
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        unanswered = max(0, unanswered - 1)
        context.write(data, promise: promise)
        if unanswered == 0, let refusal = deferred {
            deferred = nil
            send(refusal, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, context.channel.isActive, deferred == nil, !inBody else {
            context.fireErrorCaught(error)
            return
        }
        let refusal = Self.refusal(for: parserError)
        if unanswered > 0 {
            // Nothing more is read from this connection; the refusal follows the answers owed.
            deferred = refusal
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            return
        }
        send(refusal, context: context)
    }

    /// Writes `refusal` as a whole response and closes the connection once it is out.
    private func send(_ refusal: APIError, context: ChannelHandlerContext) {
        var head = HTTPResponse(status: .init(code: refusal.status))
        head.headerFields[.contentType] = "application/json; charset=utf-8"
        head.headerFields[.contentLength] = String(refusal.body.count)
        head.headerFields[.connection] = "close"
        // A request the parser refused has no id of its own worth keeping.
        head.headerFields[RequestID.header] = RequestID.generate()
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: refusal.body))), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    /// 431 for headers past the decoder's limits (RFC 6585 §5), 400 for the rest.
    static func refusal(for error: HTTPParserError) -> APIError {
        switch error {
        case .headerOverflow:
            APIError(
                status: 431, code: "request_header_fields_too_large",
                message: "The request's header fields are larger than this server accepts.")
        default:
            .badRequest("The request is not valid HTTP/1.1 (RFC 9112): \(error).")
        }
    }
}
