import Foundation

/// An error the public contract names: an HTTP status, a machine code and a human sentence.
/// Every failure a client can cause ends as one of these, rendered as
/// `{"error": code, "message": message}`.
public struct APIError: Error, Sendable, Equatable {
    public var status: Int
    public var code: String
    public var message: String
    /// Seconds the client should wait before trying again (`Retry-After`), for 429 and 503.
    public var retryAfterSeconds: Int?

    public init(status: Int, code: String, message: String, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    public static func validation(_ message: String) -> APIError {
        APIError(status: 422, code: "validation_failed", message: message)
    }
    public static func badRequest(_ message: String) -> APIError {
        APIError(status: 400, code: "bad_request", message: message)
    }
    public static func invalidJSON(_ message: String) -> APIError {
        APIError(status: 400, code: "invalid_json", message: message)
    }
    public static let unauthorized = APIError(
        status: 401, code: "unauthorized", message: "A valid admin bearer token is required.")
    public static let saleNotFound = APIError(status: 404, code: "sale_not_found", message: "No sale has that id.")
    public static let reservationNotFound = APIError(
        status: 404, code: "reservation_not_found", message: "No reservation has that id.")
    public static let notFound = APIError(status: 404, code: "not_found", message: "There is nothing at this address.")
    public static let duplicateSKU = APIError(
        status: 409, code: "duplicate_sku", message: "A sale of this sku already overlaps that window.")
    public static let payloadTooLarge = APIError(
        status: 413, code: "payload_too_large", message: "The request body is larger than this endpoint accepts.")

    // Checkout
    public static let idempotencyKeyRequired = APIError(
        status: 400, code: "idempotency_key_required",
        message: "Send an Idempotency-Key header of 1–255 printable characters.")
    public static let idempotencyKeyReused = APIError(
        status: 422, code: "idempotency_key_reused",
        message: "This Idempotency-Key was already used with a different request body.")
    public static let requestInProgress = APIError(
        status: 409, code: "request_in_progress",
        message: "A request with this Idempotency-Key is still being processed; retry shortly.")
    public static let notAdmitted = APIError(
        status: 403, code: "not_admitted", message: "An admitted queue pass for this sale is required.")
    public static let soldOut = APIError(status: 409, code: "sold_out", message: "Every unit of this sale is sold or held.")
    public static let blocked = APIError(
        status: 403, code: "blocked", message: "Requests from your network are blocked by this shop.")
    /// Over a per-client limit of the edge shield.
    public static func rateLimited(retryAfterSeconds: Int) -> APIError {
        APIError(
            status: 429, code: "rate_limited",
            message: "Too many requests from your address; try again in \(retryAfterSeconds) s.", retryAfterSeconds: retryAfterSeconds)
    }
    public static let accessRuleNotFound = APIError(
        status: 404, code: "access_rule_not_found", message: "That network is not on this list.")
    public static let saleAlreadyStarted = APIError(
        status: 409, code: "sale_started", message: "starts_at can change only before the sale starts.")
    public static let saleEnded = APIError(status: 410, code: "sale_ended", message: "This sale has ended.")
    public static let limitExceeded = APIError(
        status: 422, code: "limit_exceeded", message: "That would exceed the per-customer limit of this sale.")
    public static let salePaused = APIError(status: 423, code: "sale_paused", message: "This sale is paused; try again soon.")
    public static let passHasReservation = APIError(
        status: 409, code: "reservation_exists", message: "This queue pass already holds a live reservation.")
    public static let reservationClosed = APIError(
        status: 409, code: "reservation_closed", message: "This reservation was already paid, cancelled or expired.")
    public static let alreadyPaid = APIError(status: 409, code: "already_paid", message: "This reservation is already paid.")
    public static let reservationExpired = APIError(
        status: 410, code: "reservation_expired", message: "This reservation expired or was cancelled; its units went back on sale.")
    public static let paymentInProgress = APIError(
        status: 409, code: "payment_in_progress",
        message: "Another payment for this reservation is still being processed; check its order before paying again.")
    public static func paymentDeclined(_ reason: String) -> APIError {
        APIError(
            status: 402, code: "payment_declined",
            message: "The card was declined (\(reason)). The reservation is still held: try another card.")
    }
    public static let paymentFailed = APIError(
        status: 502, code: "payment_failed",
        message: "The payment provider could not take the payment; nothing was charged. Try again.")
    public static let orderNotFound = APIError(status: 404, code: "order_not_found", message: "No order has that id.")
    public static let orderNotCancellable = APIError(
        status: 409, code: "order_not_cancellable",
        message: "Only a paid order can be cancelled; this one's payment is still unresolved or took no money.")
    public static let internalError = APIError(
        status: 500, code: "internal_error", message: "Something went wrong on our side; nothing was charged.")
    public static let unavailable = APIError(
        status: 503, code: "unavailable", message: "The shop is starting or its database is unreachable; retry shortly.",
        retryAfterSeconds: 1)

    /// The JSON body of API.md for this error.
    public var body: Data {
        // Hand-built so an error can always be rendered, whatever the message holds.
        Data("{\"error\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message))}".utf8)
    }
}

enum JSONText {
    /// A JSON string literal for `s`, escaped per RFC 8259.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
