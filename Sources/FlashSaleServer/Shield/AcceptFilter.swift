import FlashSaleCore
import NIOCore

/// The cheap half of the connection caps, on the listening socket's pipeline: an accepted
/// connection whose address already holds its cap (or that would pass the total) is
/// closed before Hummingbird builds its HTTP pipeline, so a connect flood from one address
/// costs an accept and a close, and the accept queue drains fast enough for other clients'
/// connects to get through (docs/ATTACKS.md). `ConnectionGuard` keeps the exact count: it
/// counts at activation and closes the few that pass here in the same instant.
final class AcceptFilter: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    let counter: ConnectionCounter
    let resolver: ClientAddressResolver
    let events: ShieldEvents

    init(counter: ConnectionCounter, resolver: ClientAddressResolver, events: ShieldEvents) {
        self.counter = counter
        self.resolver = resolver
        self.events = events
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        let peer = child.remoteAddress.flatMap(AppRequestContext.bytes(of:)).map(IPAddress.canonical) ?? []
        let overClient = !resolver.isTrusted(peer) && counter.count(for: peer) >= counter.perClientLimit
        if overClient || counter.total >= counter.totalLimit {
            events.refused(.connectionCap, detail: overClient ? "per_client" : "total", client: peer)
            child.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}
