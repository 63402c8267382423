import FlashSaleBench
import FlashSaleCore
import Foundation
import Synchronization

/// How one farm pass ended; the farm's outcomes are counted by these names.
public enum BotExit: String, Sendable, Codable, CaseIterable {
    case paid
    /// The payment was refused (422, `limit_exceeded`: the door or card already bought).
    case paymentRefused = "payment_refused"
    case paymentDeclined = "payment_declined"
    /// The reservation was refused (403 `not_admitted`, 422 `limit_exceeded`).
    case reserveRefused = "reserve_refused"
    case soldOut = "sold_out"
    case ended
    /// The join was answered 429: the address's join limit.
    case joinRefused = "join_refused"
    /// Its challenge was still unsolved when the farm stopped.
    case unsolved
    /// Still in line when the farm stopped (the honest crowd was done).
    case stoppedInLine = "stopped_in_line"
    case error
    case cutOff = "cut_off"
}

/// What the run keeps of one farm pass.
struct BotResult: Sendable {
    var exit: BotExit = .cutOff
    var gotPass = false
    /// `difficulty_bits` of each challenge it was answered.
    var challenges: [Int] = []
    var solved = 0
    /// Seconds after the opening.
    var admitted: Double?
    var reserved = false
    var paidOrder: String?
}

/// What the farm's bots share: their own connections and counters, the solver they pay
/// for, and the operator's stop signal.
final class FarmContext: Sendable {
    let client: CrowdClient
    let saleID: String
    let runTag: String
    let opening: ContinuousClock.Instant
    let profile: FarmProfile
    let addresses: CrowdAddresses
    let drops: [FarmDisguise.DropAddress]
    let solver: ProofOfWorkSolver
    let seed: UInt64
    /// Set when a bot saw the sale sold out or ended, or the honest crowd was done: the
    /// operator stops its solvers and its bots leave the line.
    private let stopped = Atomic<Bool>(false)

    init(
        client: CrowdClient, saleID: String, runTag: String, opening: ContinuousClock.Instant, profile: FarmProfile,
        addresses: CrowdAddresses, drops: [FarmDisguise.DropAddress], solver: ProofOfWorkSolver, seed: UInt64
    ) {
        self.client = client
        self.saleID = saleID
        self.runTag = runTag
        self.opening = opening
        self.profile = profile
        self.addresses = addresses
        self.drops = drops
        self.solver = solver
        self.seed = seed
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        solver.shutdown()
    }

    var isStopped: Bool { stopped.load(ordering: .relaxed) }
}

/// One pass of the farm, played as a bot does: join from its address (proving work when
/// asked, on the farm's solver), poll every `pollMs` whatever it is told, reserve
/// `reserveDelayMs` after admission with a fresh email, pay at once with a fresh card to a
/// jigged drop address. Refused anywhere, it stops: the farm's other passes are its retries.
struct FarmBot: Sendable {
    let index: Int
    let context: FarmContext

    private var path: String { "/api/v1/sales/\(context.saleID)/queue" }
    private var identity: [(String, String)] {
        [("X-Forwarded-For", context.addresses.farm(index)), ("User-Agent", CrowdAddresses.userAgent)]
    }

    func play() async -> BotResult {
        var result = BotResult()
        do {
            try await Task.sleep(until: context.opening + .seconds(context.profile.joinOffset(index)), clock: .continuous)
            guard let pass = try await join(&result) else { return result }
            guard let admitted = try await waitInLine(pass: pass, &result) else { return result }
            try await checkout(pass: admitted, &result)
        } catch {
            // Cancelled: the run's time is up.
        }
        return result
    }

    /// The pass, or nil with `result.exit` set.
    private func join(_ result: inout BotResult) async throws -> String? {
        var pass: String?
        var proof: String?
        if context.isStopped {
            result.exit = .stoppedInLine
            return nil
        }
        for _ in 0..<8 {
            var headers = identity
            if let pass { headers.append(("X-Queue-Pass", pass)) }
            if let proof { headers.append(("X-Queue-Proof", proof)) }
            let reply = await context.client.send(.join, "POST", path, headers: headers)
            try Task.checkCancellation()
            guard let reply, reply.status == 200, let answer = CrowdClient.decode(ShopWire.QueueAnswer.self, reply) else {
                if reply?.status == 429 {
                    result.exit = .joinRefused
                    return nil
                }
                if let reply, reply.status < 500 { context.client.metrics.countError() }
                try await Task.sleep(for: .milliseconds(context.profile.pollMs))
                continue
            }
            pass = answer.pass ?? pass
            switch answer.status {
            case "challenge":
                guard let challenge = answer.challenge else { break }
                result.challenges.append(challenge.difficultyBits)
                guard !context.isStopped,
                    let nonce = await context.solver.solve(prefix: challenge.prefix, difficultyBits: challenge.difficultyBits)
                else {
                    try Task.checkCancellation()
                    result.exit = .unsolved
                    return nil
                }
                result.solved += 1
                proof = nonce.nonce
            case "waiting", "not_started", "admitted":
                result.gotPass = true
                return pass
            case "sold_out":
                result.exit = .soldOut
                return nil
            case "ended":
                result.exit = .ended
                return nil
            default:
                break
            }
        }
        context.client.metrics.countError()
        result.exit = .error
        return nil
    }

    /// The admitted pass, or nil with `result.exit` set.
    private func waitInLine(pass: String, _ result: inout BotResult) async throws -> String? {
        var pass = pass
        var failures = 0
        while true {
            if context.isStopped {
                result.exit = .stoppedInLine
                return nil
            }
            let reply = await context.client.send(.poll, "GET", path, headers: identity + [("X-Queue-Pass", pass)])
            try Task.checkCancellation()
            if let reply, reply.status == 200, let answer = CrowdClient.decode(ShopWire.QueueAnswer.self, reply) {
                failures = 0
                pass = answer.pass ?? pass
                switch answer.status {
                case "admitted":
                    result.admitted = (ContinuousClock.now - context.opening).seconds
                    return pass
                case "sold_out", "ended":
                    result.exit = answer.status == "ended" ? .ended : .soldOut
                    // The operator stops the solvers: no pass can buy anything any more.
                    context.stop()
                    return nil
                default:
                    break
                }
            } else {
                failures += 1
                if let reply, reply.status < 500, reply.status != 429 { context.client.metrics.countError() }
                if failures >= 5 {
                    result.exit = .error
                    return nil
                }
            }
            try await Task.sleep(for: .milliseconds(context.profile.pollMs))
        }
    }

    private func checkout(pass: String, _ result: inout BotResult) async throws {
        // Each bot draws its disguise from the run's seed and its index: a replay is the same farm.
        var g = SplitMix64(seed: context.seed ^ 0xFA21_B07F_A21B_07FA &+ UInt64(index))
        try await Task.sleep(for: .milliseconds(context.profile.reserveDelayMs))
        let key = "farm-\(context.runTag)-\(index)"
        let email = FarmDisguise.freshEmail(using: &g)
        let reserved = await context.client.send(
            .reserve, "POST", "/api/v1/sales/\(context.saleID)/reservations", body: #"{"email": "\#(email)", "quantity": 1}"#,
            headers: identity + [("X-Queue-Pass", pass), ("Idempotency-Key", key + "-reserve")])
        try Task.checkCancellation()
        switch reserved?.status {
        case 201: break
        case 409: result.exit = .soldOut; return
        case 403, 422: result.exit = .reserveRefused; return
        case 410: result.exit = .ended; return
        default: return fail(&result, reserved)
        }
        guard let reservation = reserved.flatMap({ CrowdClient.decode(ShopWire.Reservation.self, $0) })?.reservationID else {
            return fail(&result, reserved)
        }
        result.reserved = true
        let drop = context.drops[index % context.drops.count]
        let body = FarmDisguise.paymentBody(
            card: FarmDisguise.freshCard(using: &g), name: FarmDisguise.freshName(using: &g), line1: FarmDisguise.jig(drop, using: &g),
            drop: drop)
        let payPath = "/api/v1/reservations/\(reservation)/payment"
        let payHeaders = identity + [("Idempotency-Key", key + "-pay")]
        var paid = await context.client.send(.pay, "POST", payPath, body: body, headers: payHeaders)
        // 202: the provider has not answered; the same key asks again.
        for _ in 0..<20 where paid?.status == 202 {
            try await Task.sleep(for: .milliseconds(500))
            paid = await context.client.send(.pay, "POST", payPath, body: body, headers: payHeaders)
        }
        try Task.checkCancellation()
        switch paid?.status {
        case 201:
            result.paidOrder = paid.flatMap { CrowdClient.decode(ShopWire.Order.self, $0) }?.orderID ?? "reservation:\(reservation)"
            result.exit = .paid
        case 422: result.exit = .paymentRefused
        case 402: result.exit = .paymentDeclined
        case 410: result.exit = .ended
        default: fail(&result, paid)
        }
    }

    private func fail(_ result: inout BotResult, _ reply: BenchHTTP.Reply?) {
        if let reply, reply.status < 500 { context.client.metrics.countError() }
        result.exit = .error
    }
}
