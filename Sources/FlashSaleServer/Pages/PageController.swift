import FlashSaleCore
import Foundation
import Hummingbird
import Mustache
import NIOCore

/// The browser pages: `/`, `/sales/{id}` and `/sales/{id}/checkout` (the waiting page or
/// the form). Every page is server-rendered HTML that works without JavaScript; scripts
/// only make it livelier (polling, countdowns, a submit button that cannot fire twice).
struct PageController: Sendable {
    let catalog: SaleCatalog
    let waitingRoom: WaitingRoom
    let queue: QueueController
    let reservations: ReservationController
    let checkout: CheckoutService
    let renderer: PageRenderer
    let shieldPages: ShieldPages

    static let formLimit = 16 * 1024

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/", use: index)
        router.get("sales/:id", use: show)
        router.get("sales/:id/checkout", use: checkout)
        router.post("sales/:id/checkout", use: submit)
    }

    @Sendable func index(_ request: Request, context: AppRequestContext) async throws -> Response {
        let now = Date()
        let sales = catalog.sales.filter { $0.status(at: now) != .ended }.sorted { ($0.startsAt, $0.name) < ($1.startsAt, $1.name) }
        return render("index", PageViews.Index(sales: sales.map { PageViews.SaleSummary($0, now: now) }))
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let sale = try await sale(context) else { return notFound(request) }
        return render("sale", PageViews.SalePage(sale, now: Date()))
    }

    /// A poll of the waiting room rendered as a page: 200 whatever the shopper's standing.
    @Sendable func checkout(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let sale = try await sale(context) else { return notFound(request) }
        let now = Date()
        let answer: QueueAnswer
        do {
            switch try queue.poll(request, context: context, sale: sale) {
            case .answer(let polled): answer = polled
            case .challenge(let issued):
                return render(
                    "challenge", PageViews.Challenge(sale: sale, issued: issued),
                    headers: waitingRoom.challengeHeaders(token: issued.token, sale: sale))
            }
        } catch {
            return shieldPages.refusal(.rateLimited(retryAfter: Double(error.retryAfterSeconds ?? 1)), for: request)
        }
        let headers = waitingRoom.passHeaders(token: waitingRoom.signer.sign(answer.pass), sale: sale)
        switch answer.status {
        case .admitted:
            return render("checkout", PageViews.Checkout(sale: sale, admittedUntil: answer.admittedUntil, now: now), headers: headers)
        case .waiting, .notStarted:
            let first = request.uri.queryParameters.get("first", as: Int.self)
            return render("waiting", PageViews.Waiting(sale: sale, answer: answer, first: first, now: now), headers: headers)
        case .soldOut:
            return render("message", PageViews.Message(
                status: "sold_out", headline: "Sold out",
                detail: "Every unit of \(sale.name) is sold or held in a cart. Units in carts that are not paid come back; "
                    + "come back to this page to try again."), headers: headers)
        case .ended:
            return render("message", PageViews.Message(
                status: "ended", headline: "This sale has ended", detail: "\(sale.name) is no longer on sale."), headers: headers)
        }
    }

    /// The form's submission: reserve and pay through the API's own logic, then show
    /// the outcome, or the form again with the reason it was refused.
    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let sale = try await sale(context) else { return notFound(request) }
        let now = Date()
        guard let pass = waitingRoom.pass(in: request, sale: sale, now: now), pass.isAdmitted else {
            // Not (or no longer) admitted: back to the waiting page, which explains why.
            return Response(status: .seeOther, headers: [.location: "/sales/\(sale.id.lowercased)/checkout"])
        }
        // The pass already says until when it is admitted: no second poll of the waiting room.
        let admittedUntil = pass.admittedUntil(ttlSeconds: sale.reservationTTLSeconds)
        let form: CheckoutForm
        do {
            form = try CheckoutForm(body: try await request.collectBody(limit: Self.formLimit))
        } catch {
            guard Self.wantsHTML(request) else { return JSONResponse.error(error) }
            return render("checkout", PageViews.Checkout(sale: sale, admittedUntil: admittedUntil, now: now, error: error.message), status: .unprocessableContent)
        }
        let reserved: StoredResponse
        do {
            reserved = try await reservations.reserve(body: form.reservationBody, key: form.reservationKey, pass: pass, sale: sale, now: now)
        } catch let error as APIError {
            return refused(request, StoredResponse(error), sale: sale, admittedUntil: admittedUntil, form: form, now: now)
        }
        guard reserved.status == 201, let reservation = Self.object(reserved.body),
            let reservationID = (reservation["reservation_id"] as? String).flatMap(UUID.init(uuidString:))
        else {
            return refused(request, reserved, sale: sale, admittedUntil: admittedUntil, form: form, now: now)
        }
        let paid: StoredResponse
        do {
            paid = try await checkout.pay(
                reservationID: reservationID, key: form.paymentKey, body: form.paymentBody, client: context.clientAddress)
        } catch let error as APIError {
            return refused(request, StoredResponse(error), sale: sale, admittedUntil: admittedUntil, form: form, now: now)
        }
        guard paid.status == 201 || paid.status == 202, let order = Self.object(paid.body) else {
            return refused(request, paid, sale: sale, admittedUntil: admittedUntil, form: form, now: now)
        }
        let orderID = order["order_id"] as? String
        if paid.status == 202 {
            return render("message", PageViews.Message(
                status: "pending", headline: "Confirming your payment",
                detail: "The payment provider has not answered yet. Your order is safe: it ends paid, or any charge is refunded.",
                orderID: orderID, reservationID: reservationID.lowercased), status: .accepted)
        }
        return render("message", PageViews.Message(
            status: "paid", headline: "Thank you: your order is paid",
            detail: "\(form.quantity) × \(sale.name). A confirmation email is on its way to \(form.email).",
            orderID: orderID, reservationID: reservationID.lowercased), status: .created)
    }

    /// The form again with the API's reason, or a final page when retrying cannot help.
    private func refused(
        _ request: Request, _ stored: StoredResponse, sale: Sale, admittedUntil: Date?, form: CheckoutForm, now: Date
    ) -> Response {
        guard Self.wantsHTML(request) else { return JSONResponse.stored(stored) }
        let body = Self.object(stored.body)
        let code = body?["error"] as? String ?? "error"
        let message = body?["message"] as? String ?? "Something went wrong; please try again."
        let status = HTTPResponse.Status(code: stored.status)
        switch code {
        case "sold_out", "sale_ended", "reservation_expired", "already_paid":
            return render("message", PageViews.Message(status: code, headline: Self.headlines[code] ?? "Sorry", detail: message), status: status)
        default:
            return render("checkout", PageViews.Checkout(sale: sale, admittedUntil: admittedUntil, now: now, form: form, error: message), status: status)
        }
    }

    static let headlines = [
        "sold_out": "Sold out", "sale_ended": "This sale has ended", "reservation_expired": "Your reservation expired",
        "already_paid": "Already paid",
    ]

    private func sale(_ context: AppRequestContext) async throws -> Sale? {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else { return nil }
        return try await catalog.sale(id)
    }

    private func notFound(_ request: Request) -> Response {
        guard Self.wantsHTML(request) else { return JSONResponse.error(.saleNotFound) }
        return render("message", PageViews.Message(status: "not_found", headline: "No such sale", detail: "There is no sale at this address."),
            status: .notFound)
    }

    static func wantsHTML(_ request: Request) -> Bool { PageRenderer.wantsHTML(request) }

    private static func object(_ data: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    private func render(_ template: String, _ view: Any, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        renderer.render(template, view, status: status, headers: headers)
    }
}
