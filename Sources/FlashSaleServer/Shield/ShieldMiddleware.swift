import FlashSaleCore
import Foundation
import HTTPTypes
import Hummingbird

/// The edge shield in front of every route: resolves the client address once (the TCP
/// peer, or the right-most untrusted `X-Forwarded-For` entry behind a `--trusted-proxy`),
/// puts it in the request's context and log metadata, answers blocked clients 403
/// `blocked`, and spends the client's token bucket for its route class:
/// - operations (`/healthz`, `/readyz`, `/metrics`): never refused (probes and scrapers);
/// - the waiting room (queue join/poll, the checkout page): passed on; joins are limited per
///   address and polls per pass by the waiting room itself (`QueueController`), since only
///   it knows whether a pass is genuine;
/// - checkout (reserve, pay, cancel, the checkout form): per pass or reservation, so that
///   shoppers behind one NAT address do not share one bucket; per address without either;
/// - everything else: per address.
///
/// Allowed addresses and requests bearing the admin token skip the limits.
struct ShieldMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let resolver: ClientAddressResolver
    let lists: AccessLists
    let limits: ClientLimits
    let events: ShieldEvents
    let signer: PassSigner
    let adminToken: [UInt8]
    let pages: ShieldPages

    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let route = ShieldRoute(method: request.method, path: request.uri.path)
        guard route != .operations,
            let client = resolver.resolve(peer: context.peerAddress, forwardedFor: request.headers[values: Self.forwardedFor])
        else {
            // In-process router tests have no peer: nothing to key on.
            return try await next(request, context)
        }
        context.clientAddress = client
        context.logger[metadataKey: "client"] = "\(IPAddress.format(client))"
        switch lists.verdict(for: client, now: Date()) {
        case .allowed:
            context.exemptFromLimits = true
            return try await next(request, context)
        case .blocked:
            events.refused(.blocked, detail: "blocklist", client: client, saleID: ShieldEvents.saleID(inPath: request.uri.path))
            return pages.refusal(.blocked, for: request)
        case .unlisted:
            break
        }
        if AdminAuthMiddleware<Context>.isAuthorized(request, token: adminToken) {
            context.exemptFromLimits = true
            return try await next(request, context)
        }
        let spent: (bucket: ClientLimits.Bucket, key: ClientLimits.Key)? =
            switch route {
            case .operations, .waitingRoom: nil
            case .checkout(let saleID, let reservationID):
                (.checkout, checkoutKey(request, saleID: saleID, reservationID: reservationID, client: client))
            case .other: (.requests, .address(client))
            }
        if let (bucket, key) = spent, let wait = limits.take(bucket, key: key) {
            events.refused(
                .rateLimited, detail: bucket.rawValue, client: client, saleID: ShieldEvents.saleID(inPath: request.uri.path))
            return pages.refusal(.rateLimited(retryAfter: wait), for: request)
        }
        return try await next(request, context)
    }

    /// The pass's visitor when the request carries a genuine one, else the reservation in
    /// the path, else the address.
    private func checkoutKey(_ request: Request, saleID: UUID?, reservationID: UUID?, client: [UInt8]) -> ClientLimits.Key {
        if let saleID {
            for token in WaitingRoom.tokens(in: request, saleID: saleID) {
                if let pass = signer.verify(token), pass.saleID == saleID { return .visitor(pass.visitorID) }
            }
        }
        if let reservationID { return .reservation(reservationID) }
        return .address(client)
    }
}

/// The shield's view of a route, from the method and the raw path (before routing).
enum ShieldRoute: Equatable {
    case operations
    case waitingRoom
    case checkout(saleID: UUID?, reservationID: UUID?)
    case other

    init(method: HTTPRequest.Method, path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        func id(_ index: Int) -> UUID? { parts.count > index ? UUID(uuidString: String(parts[index])) : nil }
        switch (method, parts.count) {
        case (_, 1) where ["healthz", "readyz", "metrics"].contains(parts[0]):
            self = .operations
        case (.get, 5) where parts[0] == "api" && parts[2] == "sales" && parts[4] == "queue",
            (.post, 5) where parts[0] == "api" && parts[2] == "sales" && parts[4] == "queue",
            (.get, 3) where parts[0] == "sales" && parts[2] == "checkout":
            self = .waitingRoom
        case (.post, 5) where parts[0] == "api" && parts[2] == "sales" && parts[4] == "reservations":
            self = .checkout(saleID: id(3), reservationID: nil)
        case (.post, 3) where parts[0] == "sales" && parts[2] == "checkout":
            self = .checkout(saleID: id(1), reservationID: nil)
        case (.post, 5) where parts[0] == "api" && parts[2] == "reservations" && parts[4] == "payment",
            (.delete, 4) where parts[0] == "api" && parts[2] == "reservations":
            self = .checkout(saleID: nil, reservationID: id(3))
        default:
            self = .other
        }
    }
}
