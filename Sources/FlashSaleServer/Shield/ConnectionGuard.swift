import FlashSaleCore
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// The shield's per-connection defences, installed on every HTTP/1 connection (after the
/// HTTP codec, so it sees request heads and ends):
/// - **caps**: open connections per client address and in total, counted from accept to
///   close; a connection over a cap is closed at once, before anything is read. Peers
///   inside `--trusted-proxy` networks count only towards the total (a proxy carries many
///   clients; per-client caps behind it are the proxy's job: nginx `limit_conn`);
/// - **slow headers**: a request head must arrive whole within `headerTimeout` of its first
///   byte ("slowloris"; Hummingbird's idle timeout only closes connections that send nothing);
/// - **trickling bodies**: a request must arrive whole within `bodyTimeout` of its head;
/// - **slow reads**: a response may wait at most `writeTimeout` for a client that stopped
///   reading (the socket stays unwritable), which would otherwise pin its buffers.
///
/// Idle keep-alive connections are closed by Hummingbird's `idleTimeout`.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Settings: Sendable {
        var counter: ConnectionCounter
        var resolver: ClientAddressResolver
        var headerTimeout: TimeAmount
        var bodyTimeout: TimeAmount
        var writeTimeout: TimeAmount
        var events: ShieldEvents
    }

    private let settings: Settings
    private var context: ChannelHandlerContext?
    private var address: [UInt8]?
    private var counted = false
    /// Between requests: the next bytes begin a request head.
    private var awaitingHead = true
    private var headDeadline: Scheduled<Void>?
    private var bodyDeadline: Scheduled<Void>?
    private var writeDeadline: Scheduled<Void>?

    init(_ settings: Settings) {
        self.settings = settings
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The codec hides partial heads: a small handler in front of it reports raw bytes.
        try? context.pipeline.syncOperations.addHandler(RequestBytesWatcher(guard: self), position: .first)
        if context.channel.isActive { admit(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    private func admit(_ context: ChannelHandlerContext) {
        guard !counted, address == nil else { return }
        let peer = context.channel.remoteAddress.flatMap(AppRequestContext.bytes(of:)).map(IPAddress.canonical) ?? []
        address = peer
        if let refusal = settings.counter.open(peer, perClientCap: !settings.resolver.isTrusted(peer)) {
            settings.events.refused(.connectionCap, detail: refusal == .perClient ? "per_client" : "total", client: peer)
            context.close(promise: nil)
            return
        }
        counted = true
    }

    private func release() {
        if counted, let address { settings.counter.close(address) }
        counted = false
        for deadline in [headDeadline, bodyDeadline, writeDeadline] { deadline?.cancel() }
        (headDeadline, bodyDeadline, writeDeadline) = (nil, nil, nil)
    }

    /// Raw bytes arrived: when they begin a request head, its clock starts.
    fileprivate func bytesArrived() {
        guard awaitingHead, headDeadline == nil, let context else { return }
        headDeadline = schedule(context, after: settings.headerTimeout, detail: "header")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            awaitingHead = false
            headDeadline?.cancel()
            headDeadline = nil
            bodyDeadline = schedule(context, after: settings.bodyTimeout, detail: "body")
        case .body:
            break
        case .end:
            bodyDeadline?.cancel()
            bodyDeadline = nil
            awaitingHead = true
        }
        context.fireChannelRead(data)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            writeDeadline?.cancel()
            writeDeadline = nil
        } else if writeDeadline == nil {
            writeDeadline = schedule(context, after: settings.writeTimeout, detail: "write")
        }
        context.fireChannelWritabilityChanged()
    }

    /// Closes the connection after `delay` unless cancelled first.
    private func schedule(_ context: ChannelHandlerContext, after delay: TimeAmount, detail: String) -> Scheduled<Void> {
        let events = settings.events
        let client = address
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        return context.eventLoop.scheduleTask(in: delay) {
            events.refused(.timeout, detail: detail, client: client)
            loopBound.value.close(promise: nil)
        }
    }
}

/// Sits in front of the HTTP decoder and tells the guard that bytes arrived.
private final class RequestBytesWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let connectionGuard: ConnectionGuard

    init(guard connectionGuard: ConnectionGuard) {
        self.connectionGuard = connectionGuard
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connectionGuard.bytesArrived()
        context.fireChannelRead(data)
    }
}
