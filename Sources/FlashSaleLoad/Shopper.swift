import FlashSaleBench
import FlashSaleCore
import Foundation

/// How one shopper's visit ended; the report counts them by these names.
public enum ShopperExit: String, Sendable, Codable, CaseIterable {
    case gaveUp = "gave_up"
    case soldOutInQueue = "sold_out_in_queue"
    case ended
    case leftAfterAdmission = "left_after_admission"
    case soldOutAtReserve = "sold_out_at_reserve"
    case reserveRefused = "reserve_refused"
    case cancelled
    case letExpire = "let_reservation_expire"
    case paid
    case declined
    case reservationExpired = "reservation_expired"
    case error
    case cutOff = "cut_off"
}

/// What the run keeps of one shopper; times in seconds after the opening.
struct ShopperResult: Sendable {
    /// When its first join went out (the planned arrival until then).
    var arrival: Double
    var joined = false
    var admitted: Double?
    /// The poll interval it observed before seeing its admission (see `Fairness`).
    var admissionLag = 0.0
    var exit: ShopperExit
    /// Identifies the paid order (its id, or the reservation's when the server only said `already_paid`).
    var paidOrder: String?
    /// Behind the office NAT (`--nat-shoppers`).
    var nat = false
    /// The proofs of work it was asked for.
    var solves: [Solve] = []
    /// The node that issued its first pass, and the one that admitted it.
    var passNode: Int?
    var admittedNode: Int?
    /// Its reservation answered 201, once it has one.
    var checkout: CheckoutRecord?

    struct Solve: Sendable, Equatable {
        var bits: Int
        /// Hashing on a solver thread: what the shopper's own device would spend.
        var hashingSeconds: Double
        /// Wall clock from the challenge's answer to the re-join going out (the hashing,
        /// plus any wait for one of the crowd's solver threads).
        var seconds: Double
    }
}

/// What every shopper of one run shares.
struct ShopperContext: Sendable {
    let client: CrowdClient
    let saleID: String
    /// Distinguishes this run's idempotency keys and emails from any other run's.
    let runTag: String
    let opening: ContinuousClock.Instant
    let aggressivePollMs: Int
    /// The addresses claimed in `X-Forwarded-For`; nil: every shopper is the crowd's own address.
    let addresses: CrowdAddresses?
    let solver: ProofOfWorkSolver
    /// Failed requests in a row after which a shopper gives up with `error`.
    let maxErrorsInRow = 5

    func secondsSinceOpening() -> Double { (ContinuousClock.now - opening).seconds }
    var metrics: CrowdMetrics { client.metrics }
}

/// One virtual shopper following the public contract as a careful client does: join,
/// poll as told (unless aggressive), prove work when asked, reserve with an idempotency
/// key, pay, retrying a declined card with another card and a new key.
struct Shopper: Sendable {
    let index: Int
    let arrival: Double
    let plan: ShopperPlan
    let context: ShopperContext

    /// Headers every request of this shopper carries: its address and a browser's agent.
    private var identity: [(String, String)] {
        guard let addresses = context.addresses else { return [] }
        return [("X-Forwarded-For", addresses.shopper(index)), ("User-Agent", CrowdAddresses.userAgent)]
    }

    func visit() async -> ShopperResult {
        var result = ShopperResult(arrival: arrival, admitted: nil, exit: .cutOff)
        result.nat = context.addresses?.isNAT(index) ?? false
        do {
            try await Task.sleep(until: context.opening + .seconds(arrival), clock: .continuous)
            context.metrics.waiting.add(1, ordering: .relaxed)
            let queued = try await waitInQueue(&result)
            context.metrics.waiting.subtract(1, ordering: .relaxed)
            guard case .admitted(let pass) = queued else {
                if case .left(let exit) = queued { result.exit = exit }
                return result
            }
            context.metrics.admitted.add(1, ordering: .relaxed)
            try await checkout(pass: pass, into: &result)
        } catch {
            // Cancelled: the run's time is up.
        }
        return result
    }

    private enum Queued { case admitted(pass: String), left(ShopperExit) }

    /// Records the first join's departure as the arrival, and the admission with the poll
    /// interval that preceded it.
    private func waitInQueue(_ result: inout ShopperResult) async throws -> Queued {
        let path = "/api/v1/sales/\(context.saleID)/queue"
        let joinedAt = context.secondsSinceOpening()
        var firstJoin = true
        var lastWaitingSentAt: ContinuousClock.Instant?
        var pass: String?
        var proof: String?
        var challenged: (bits: Int, at: ContinuousClock.Instant, hashing: Double)?
        var joining = true
        var failures = 0
        while true {
            var headers = identity
            if let pass { headers.append(("X-Queue-Pass", pass)) }
            if let proof { headers.append(("X-Queue-Proof", proof)) }
            let (reply, sentAt, node) = await context.client.timedExchange(
                joining ? .join : .poll, joining ? "POST" : "GET", path, headers: headers)
            try Task.checkCancellation()
            if let solve = challenged, proof != nil {
                result.solves.append(ShopperResult.Solve(bits: solve.bits, hashingSeconds: solve.hashing, seconds: (sentAt - solve.at).seconds))
                challenged = nil
            }
            if firstJoin {
                result.arrival = (sentAt - context.opening).seconds
                result.joined = true
                firstJoin = false
            }
            let decision: QueueDecision
            if let reply, reply.status == 200, let answer = CrowdClient.decode(ShopWire.QueueAnswer.self, reply) {
                failures = 0
                if pass == nil, answer.pass != nil { result.passNode = node }
                pass = answer.pass ?? pass
                if answer.status == "admitted" {
                    result.admittedNode = node
                    result.admitted = context.secondsSinceOpening()
                    result.admissionLag = (ContinuousClock.now - (lastWaitingSentAt ?? sentAt)).seconds
                }
                if answer.status == "waiting" || answer.status == "not_started" { lastWaitingSentAt = sentAt }
                decision = QueueDecision.next(
                    after: answer, plan: plan, waited: context.secondsSinceOpening() - joinedAt,
                    aggressivePollMs: context.aggressivePollMs)
                joining = false
                proof = nil
            } else {
                // A 429 is the server's to count; anything else is an error of the run.
                if let reply, reply.status != 429, reply.status < 500 { context.metrics.countError() }
                failures += reply?.status == 429 ? 0 : 1
                if failures >= context.maxErrorsInRow { return .left(.error) }
                decision = .poll(afterMs: QueueDecision.fallbackPollMs)
            }
            switch decision {
            case .poll(let ms):
                try await Task.sleep(for: .milliseconds(ms))
            case .solve(let challenge):
                // The challenge's pass (kept above) goes back with the nonce. The hashing runs
                // on the solver's threads: inline, it would stall the crowd's executor.
                let asked = ContinuousClock.now
                guard let solution = await context.solver.solve(prefix: challenge.prefix, difficultyBits: challenge.difficultyBits) else {
                    throw CancellationError()
                }
                challenged = (challenge.difficultyBits, asked, solution.hashingSeconds)
                proof = solution.nonce
                joining = true
            case .reserve:
                guard let pass else { return .left(.error) }
                return .admitted(pass: pass)
            case .leave(let exit):
                switch exit {
                case .soldOut: return .left(.soldOutInQueue)
                case .ended: return .left(.ended)
                case .gaveUp: return .left(.gaveUp)
                case .unexpected:
                    context.metrics.countError()
                    return .left(.error)
                }
            }
        }
    }

    private func checkout(pass: String, into result: inout ShopperResult) async throws {
        guard plan.reserves else {
            result.exit = .leftAfterAdmission
            return
        }
        try await think()
        let key = "crowd-\(context.runTag)-\(index)"
        let body = #"{"email": "shopper\#(index).\#(context.runTag)@crowd.example", "quantity": 1}"#
        let reserved = try await sendRetrying(
            .reserve, "POST", "/api/v1/sales/\(context.saleID)/reservations", body: body,
            headers: identity + [("X-Queue-Pass", pass), ("Idempotency-Key", key + "-reserve")])
        switch reserved?.status {
        case 201: break
        case 409: result.exit = .soldOutAtReserve; return
        case 403: result.exit = .reserveRefused; return
        case 410: result.exit = .ended; return
        default: return fail(&result, reserved)
        }
        guard let reservation = reserved.flatMap({ CrowdClient.decode(ShopWire.Reservation.self, $0) })?.reservationID else {
            return fail(&result, reserved)
        }
        context.metrics.reserved.add(1, ordering: .relaxed)
        result.checkout = CheckoutRecord(
            reservationID: reservation, reservedAt: context.secondsSinceOpening(), admittedAt: result.admitted,
            passNode: result.passNode, admittedNode: result.admittedNode)
        guard plan.pays else {
            if plan.cancels {
                let cancelled = await context.client.send(.cancel, "DELETE", "/api/v1/reservations/\(reservation)", headers: identity)
                try Task.checkCancellation()
                if cancelled?.status != 204 { context.metrics.countError() }
                result.exit = .cancelled
            } else {
                result.exit = .letExpire
            }
            return
        }
        for (attempt, card) in plan.cards.enumerated() {
            try await think()
            var paid = try await sendRetrying(
                .pay, "POST", "/api/v1/reservations/\(reservation)/payment", body: Self.paymentBody(card: card, shopper: index),
                headers: identity + [("Idempotency-Key", "\(key)-pay-\(attempt)")])
            // 202: the provider has not answered yet. Ask again with the same key, as a
            // client should, until the shop knows the outcome.
            for _ in 0..<20 where paid?.status == 202 {
                try await Task.sleep(for: .milliseconds(500))
                paid = try await sendRetrying(
                    .pay, "POST", "/api/v1/reservations/\(reservation)/payment",
                    body: Self.paymentBody(card: card, shopper: index), headers: identity + [("Idempotency-Key", "\(key)-pay-\(attempt)")])
            }
            switch paid?.status {
            case 201:
                result.paidOrder = paid.flatMap { CrowdClient.decode(ShopWire.Order.self, $0) }?.orderID ?? "reservation:\(reservation)"
            case 409 where paid?.text.contains("already_paid") == true:
                result.paidOrder = "reservation:\(reservation)"
            case 402:
                continue
            case 422 where card != .succeeds && paid?.text.contains("limit_exceeded") == true:
                // The declining test cards are shared by every shopper of the crowd; while
                // one shopper's attempt with such a card is in flight, the shop counts the
                // card against the limit (a card paying for two customers is what resellers
                // do), so another shopper's attempt with it is refused. Next card.
                continue
            case 410:
                result.exit = .reservationExpired
                return
            default:
                return fail(&result, paid)
            }
            context.metrics.paid.add(1, ordering: .relaxed)
            result.checkout?.paidOrder = result.paidOrder
            result.checkout?.paidAt = context.secondsSinceOpening()
            result.exit = .paid
            return
        }
        result.exit = .declined
    }

    private func fail(_ result: inout ShopperResult, _ reply: BenchHTTP.Reply?) {
        // 5xx and transport errors are counted where they happen; a 404 or any other
        // answer outside the contract is counted here.
        if let reply, reply.status < 500 { context.metrics.countError() }
        result.exit = .error
    }

    /// Sends, and on no answer, a 5xx or `409 request_in_progress` sends again with the
    /// same idempotency key (to the next node, with several): the server must then do the
    /// work at most once.
    private func sendRetrying(
        _ endpoint: Endpoint, _ method: String, _ path: String, body: String, headers: [(String, String)]
    ) async throws -> BenchHTTP.Reply? {
        for attempt in 1...context.maxErrorsInRow {
            let reply = await context.client.send(endpoint, method, path, body: body, headers: headers)
            try Task.checkCancellation()
            let retry = reply == nil || reply!.status >= 500 || (reply!.status == 409 && reply!.text.contains("request_in_progress"))
            if !retry || attempt == context.maxErrorsInRow { return reply }
            // A 503 (the shop's database is away) says when to come back: `Retry-After`, 1 s.
            try await Task.sleep(for: .milliseconds(reply?.status == 503 ? 1_000 : 200 * attempt))
        }
        return nil
    }

    private func think() async throws {
        if plan.thinkSeconds > 0 { try await Task.sleep(for: .seconds(plan.thinkSeconds)) }
    }

    /// Every shopper pays with a card and ships to an address of their own: the shop counts
    /// both against the per-customer limit. (The declining test cards are shared; declines
    /// count against nothing.)
    static func paymentBody(card: TestCard, shopper: Int) -> String {
        let number = card == .succeeds ? CardDetails.withCheckDigit("42" + String(format: "%013d", shopper)) : card.rawValue
        return """
        {"card": {"number": "\(number)", "exp_month": 12, "exp_year": 2030, "cvc": "123"}, \
        "shipping": {"name": "Shopper \(shopper)", "line1": "\(shopper) Crowd Street", "city": "Springfield", \
        "postal_code": "12345", "country": "US"}}
        """
    }
}
