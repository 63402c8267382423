import FlashSaleCore
import HTTPTypes
import Hummingbird

/// How the shield says no: the contract's JSON error for API clients, and for a browser
/// (which asks for `text/html`) a page that says why; a rate-limited page reloads itself
/// after `Retry-After` (the `Refresh` header works with and without JavaScript), so a
/// shopper never faces a bare 429.
struct ShieldPages: Sendable {
    enum Refusal {
        case blocked
        /// Seconds until the client's bucket holds a token again.
        case rateLimited(retryAfter: Double)
    }

    let renderer: PageRenderer

    func refusal(_ refusal: Refusal, for request: Request) -> Response {
        let error: APIError
        let page: PageViews.Message
        switch refusal {
        case .blocked:
            error = .blocked
            page = PageViews.Message(
                status: "blocked", headline: "Access blocked",
                detail: "Requests from your network are blocked by this shop. If you think this is a mistake, contact the shop.")
        case .rateLimited(let wait):
            error = .rateLimited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
            page = PageViews.Message(
                status: "rate_limited", headline: "One moment, please",
                detail: "Your network sent many requests in a short time. This page reloads by itself in a few seconds.")
        }
        guard PageRenderer.wantsHTML(request) else { return JSONResponse.error(error) }
        var headers: HTTPFields = [:]
        if let seconds = error.retryAfterSeconds {
            headers[.retryAfter] = String(seconds)
            headers[HTTPField.Name("Refresh")!] = String(seconds)
        }
        return renderer.render("message", page, status: .init(code: error.status), headers: headers)
    }
}
