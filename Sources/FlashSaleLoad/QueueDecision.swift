/// What a shopper in the waiting room does after an answer: the whole client-side logic
/// of the queue, kept free of I/O so the rules can be tested one by one.
public enum QueueDecision: Sendable, Equatable {
    /// Ask again after this many milliseconds.
    case poll(afterMs: Int)
    /// Solve the proof of work, then join again with the nonce.
    case solve(ShopWire.Challenge)
    case reserve
    case leave(QueueExit)

    /// Why a shopper left the waiting room without being admitted.
    public enum QueueExit: String, Sendable, Codable {
        case soldOut = "sold_out"
        case ended
        case gaveUp = "gave_up"
        case unexpected
    }

    /// The poll interval used when an answer carries none (a 429 or an error).
    public static let fallbackPollMs = 1_000

    /// - Parameters:
    ///   - answer: the waiting room's answer.
    ///   - waited: seconds since the shopper first joined.
    public static func next(after answer: ShopWire.QueueAnswer, plan: ShopperPlan, waited: Double, aggressivePollMs: Int)
        -> QueueDecision
    {
        switch answer.status {
        case "admitted":
            return .reserve
        case "sold_out":
            return .leave(.soldOut)
        case "ended":
            return .leave(.ended)
        case "challenge":
            guard let challenge = answer.challenge, challenge.algorithm == "sha256" else { return .leave(.unexpected) }
            return .solve(challenge)
        case "waiting", "not_started":
            if let patience = plan.patience, waited >= patience { return .leave(.gaveUp) }
            let told = answer.pollAfterMs ?? fallbackPollMs
            // Honest clients wait as told; aggressive ones ask again at their own pace.
            return .poll(afterMs: plan.aggressive ? aggressivePollMs : max(told, 0))
        default:
            return .leave(.unexpected)
        }
    }
}
