import FlashSaleCore
import Foundation
import Hummingbird

/// `POST` (join) and `GET` (poll) `/api/v1/sales/{id}/queue`: always 200 for a shopper in
/// good standing, with the current pass in the body and in the cookie.
struct QueueController: Sendable {
    let catalog: SaleCatalog
    let waitingRoom: WaitingRoom
    let metrics: ShopMetrics
    let limits: ClientLimits
    let events: ShieldEvents

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("sales/:id/queue", use: answer)
        group.get("sales/:id/queue", use: answer)
    }

    @Sendable func answer(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.uuidParameter("id", notFound: .saleNotFound)
        guard let sale = try await catalog.sale(id) else { throw APIError.saleNotFound }
        return try waitingRoom.response(for: poll(request, context: context, sale: sale), sale: sale)
    }

    /// A join or poll, counted; the checkout page polls through here as well.
    ///
    /// The shield's limits for the waiting room live here, where the pass is verified: a
    /// join (no genuine pass) spends its address's `joins` bucket and is refused with 429
    /// `rate_limited` past it; a poll spends its pass's own bucket (one token per
    /// `AdmissionController.minPollMs`), so shoppers behind one NAT address never share
    /// one, and a pass polling sooner than told gets its same state, never a 429.
    func poll(_ request: Request, context: AppRequestContext, sale: Sale) throws(APIError) -> QueueAnswer {
        let now = waitingRoom.clock()
        let pass = waitingRoom.pass(in: request, sale: sale, now: now)
        var mayAdmit = true
        if !context.exemptFromLimits, let client = context.clientAddress {
            if let pass {
                mayAdmit = limits.take(.polls, key: .visitor(pass.visitorID)) == nil
                // Answered 200 with its state: not a refusal, but worth watching (bots poll early).
                if !mayAdmit { metrics.earlyPoll(saleID: sale.id) }
            } else if let wait = limits.take(.joins, key: .address(client)) {
                events.refused(.rateLimited, detail: "joins", client: client)
                throw .rateLimited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
            }
        }
        let answer = waitingRoom.answer(pass: pass, sale: sale, now: now, mayAdmit: mayAdmit)
        metrics.queue(saleID: sale.id, status: answer.status.rawValue)
        if answer.isNewPass { metrics.queueJoined(saleID: sale.id) }
        if answer.admittedNow { metrics.queueAdmitted(saleID: sale.id) }
        return answer
    }
}
