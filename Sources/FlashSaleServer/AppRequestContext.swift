import FlashSaleCore
import Hummingbird
import NIOCore

/// A context that says how an operator request authenticated, for the audit record.
public protocol OperatorRequestContext: RequestContext {
    /// Set by the middleware that authenticated the operator: `AdminAuthMiddleware` sets
    /// `.adminToken`; a dashboard session would set `.console`. nil: not an operator.
    var operatorActor: AuditEntry.Actor? { get set }
}

/// Per-request context: the TCP peer's address, for trusted-proxy handling and lists.
public struct AppRequestContext: OperatorRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer's address bytes; nil under in-process router tests.
    public let peerAddress: [UInt8]?
    /// The client's address as the shield resolved it (trusted proxies seen through),
    /// canonical bytes; nil until the shield ran, and under in-process router tests.
    public var clientAddress: [UInt8]?
    /// On the allow list, or authenticated as the operator: no per-client limits.
    public var exemptFromLimits = false
    public var operatorActor: AuditEntry.Actor?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress.flatMap(Self.bytes(of:))
    }

    /// Bodies of this API are small; anything larger is refused before it is read.
    public var maxUploadSize: Int { 64 * 1024 }

    /// The address bytes of a socket address: 4 for IPv4, 16 for IPv6, nil for a Unix socket.
    static func bytes(of address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4): withUnsafeBytes(of: v4.address.sin_addr.s_addr) { Array($0) }
        case .v6(let v6): withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        case .unixDomainSocket: nil
        }
    }
}
