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
    let challenges: JoinChallenges

    /// A join's or a poll's outcome: an answer with a pass, or a proof-of-work challenge.
    enum Outcome {
        case answer(QueueAnswer)
        case challenge(JoinChallenges.Issued)
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("sales/:id/queue", use: answer)
        group.get("sales/:id/queue", use: answer)
    }

    @Sendable func answer(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.uuidParameter("id", notFound: .saleNotFound)
        guard let sale = try await catalog.sale(id) else { throw APIError.saleNotFound }
        switch try poll(request, context: context, sale: sale) {
        case .answer(let answer): return try waitingRoom.response(for: answer, sale: sale)
        case .challenge(let issued): return waitingRoom.response(for: issued, sale: sale)
        }
    }

    /// A join or poll, counted; the checkout page polls through here as well.
    ///
    /// The shield's limits for the waiting room live here, where the pass is verified: a
    /// join (no genuine pass) goes through the bot defence's door (`JoinChallenges`), which
    /// spends its address's `joins` bucket (429 `rate_limited` past it) and may ask for
    /// proof of work; a poll spends its pass's own bucket (one token per
    /// `AdmissionController.minPollMs`), so shoppers behind one NAT address never share
    /// one, and a pass polling sooner than told gets its same state, never a 429.
    func poll(_ request: Request, context: AppRequestContext, sale: Sale) throws(APIError) -> Outcome {
        let now = waitingRoom.clock()
        let pass = waitingRoom.pass(in: request, sale: sale, now: now)
        var mayAdmit = true
        if !context.exemptFromLimits, let client = context.clientAddress {
            if let pass {
                mayAdmit = limits.take(.polls, key: .visitor(pass.visitorID)) == nil
                // Answered 200 with its state: not a refusal, but worth watching (bots poll early).
                if !mayAdmit { metrics.earlyPoll(saleID: sale.id) }
            } else {
                let verdict: JoinChallenges.Verdict
                do {
                    verdict = try challenges.door(request, context: context, sale: sale, client: client, now: now)
                } catch {
                    events.refused(.rateLimited, detail: "joins", client: client, saleID: sale.id)
                    throw error
                }
                if case .challenge(let issued) = verdict {
                    metrics.queue(saleID: sale.id, status: "challenge")
                    events.challenged(saleID: sale.id)
                    return .challenge(issued)
                }
            }
        }
        let answer = waitingRoom.answer(pass: pass, sale: sale, now: now, mayAdmit: mayAdmit)
        metrics.queue(saleID: sale.id, status: answer.status.rawValue)
        if answer.isNewPass { metrics.queueJoined(saleID: sale.id) }
        if answer.admittedNow { metrics.queueAdmitted(saleID: sale.id) }
        return .answer(answer)
    }
}
