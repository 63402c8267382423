import FlashSaleCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// The routes of the payment provider contract (API.md, "Payment provider contract").
struct PSPController: Sendable {
    let provider: SimulatedProvider
    /// How long a charge whose answer is withheld (the timeout fault) keeps its client waiting.
    let unansweredHold: Duration

    func addRoutes(to router: Router<PSPRequestContext>) {
        router.post("/v1/charges", use: charge)
        router.get("/v1/charges", use: lookup)
        router.post("/v1/refunds", use: refund)
        router.get("/v1/ledger", use: ledger)
    }

    @Sendable func charge(_ request: Request, context: PSPRequestContext) async throws -> Response {
        let key = try request.idempotencyKey()
        let body = try await request.decodeJSONBody(ChargeRequest.self, context: context)
        switch try await provider.attemptCharge(body, idempotencyKey: key) {
        case .answered(let outcome):
            return try PSPResponse.outcome(outcome)
        case .failedBeforeCharging:
            throw APIError.providerUnavailable
        case .unanswered(let outcome):
            // The charge is on the books; the client is left to give up. Shutting the server
            // down ends the wait, so a stopped simulator does not hang for the whole hold.
            let hold = unansweredHold
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: hold) }
            return try PSPResponse.outcome(outcome)
        }
    }

    @Sendable func lookup(_ request: Request, context: PSPRequestContext) async throws -> Response {
        guard let key = request.uri.queryParameters.get("idempotency_key"), !key.isEmpty else {
            throw APIError.badRequest("Name the charge: GET /v1/charges?idempotency_key=KEY")
        }
        guard let charge = await provider.charge(idempotencyKey: key) else {
            throw APIError(status: 404, code: "charge_not_found", message: "No charge was made with that Idempotency-Key.")
        }
        return try PSPResponse.json(charge)
    }

    @Sendable func refund(_ request: Request, context: PSPRequestContext) async throws -> Response {
        let key = try request.idempotencyKey()
        let body = try await request.decodeJSONBody(RefundBody.self, context: context)
        return try PSPResponse.json(try await provider.attemptRefund(chargeID: body.chargeID, idempotencyKey: key), status: .created)
    }

    @Sendable func ledger(_ request: Request, context: PSPRequestContext) async throws -> Response {
        try PSPResponse.json(await provider.ledger())
    }

    struct RefundBody: Decodable {
        var chargeID: String
        enum CodingKeys: String, CodingKey { case chargeID = "charge_id" }
    }
}

/// The JSON answers of the provider.
enum PSPResponse {
    static let encoder = JSONCoding.encoder()

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        body(try encoder.encode(value), status: status)
    }

    static func body(_ data: Data, status: HTTPResponse.Status) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// 201 `{"id", "status": "succeeded"}`, or 402 `{"error": "card_declined", "decline_code", "message"}`.
    static func outcome(_ outcome: ChargeOutcome) throws -> Response {
        switch outcome {
        case .succeeded(let id):
            return try json(["id": id, "status": "succeeded"], status: .created)
        case .declined(let reason):
            let decline = ["error": "card_declined", "decline_code": reason, "message": "The card was declined (\(reason))."]
            return try json(decline, status: .init(code: 402))
        }
    }
}

extension Request {
    /// The `Idempotency-Key` header, refused with a 400 when missing or malformed.
    func idempotencyKey() throws(APIError) -> String {
        guard let key = headers[HTTPField.Name("Idempotency-Key")!], IdempotencyKey.isValid(key) else {
            throw .idempotencyKeyRequired
        }
        return key
    }

    /// Decodes a JSON body of at most `context.maxUploadSize` bytes; every failure is a 4xx.
    func decodeJSONBody<T: Decodable>(_ type: T.Type, context: PSPRequestContext) async throws(APIError) -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: context.maxUploadSize)
        } catch {
            throw .payloadTooLarge
        }
        return try JSONCoding.decodeBody(type, from: Data(buffer.readableBytesView))
    }
}
