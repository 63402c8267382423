import FlashSaleCore
import Foundation
import Hummingbird

/// `POST` (join) and `GET` (poll) `/api/v1/sales/{id}/queue`: always 200 for a shopper in
/// good standing, with the current pass in the body and in the cookie.
struct QueueController: Sendable {
    let catalog: SaleCatalog
    let waitingRoom: WaitingRoom
    let metrics: ShopMetrics

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("sales/:id/queue", use: answer)
        group.get("sales/:id/queue", use: answer)
    }

    @Sendable func answer(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.uuidParameter("id", notFound: .saleNotFound)
        guard let sale = try await catalog.sale(id) else { throw APIError.saleNotFound }
        return try waitingRoom.response(for: poll(request, sale: sale), sale: sale)
    }

    /// A join or poll, counted; the checkout page polls through here as well.
    func poll(_ request: Request, sale: Sale) -> QueueAnswer {
        let answer = waitingRoom.answer(request: request, sale: sale)
        metrics.queue(saleID: sale.id, status: answer.status.rawValue)
        if answer.isNewPass { metrics.queueJoined(saleID: sale.id) }
        if answer.admittedNow { metrics.queueAdmitted(saleID: sale.id) }
        return answer
    }
}
