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
        let answer = waitingRoom.answer(request: request, sale: sale)
        metrics.queue(saleID: id, status: answer.status.rawValue)
        if answer.isNewPass { metrics.queueJoined(saleID: id) }
        if answer.admittedNow { metrics.queueAdmitted(saleID: id) }
        return try waitingRoom.response(for: answer, sale: sale)
    }
}
