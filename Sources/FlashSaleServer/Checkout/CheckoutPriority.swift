/// Checkout work (reserve, cancel, pay) runs as a high-priority task.
///
/// During a drop the two cores are saturated by the waiting room (thousands of joins and
/// polls a second), and Swift's executor queues every resumed task behind the ones already
/// runnable. A poll is one hop; a reservation is several (the engine's batch, the store's
/// commit, the answer) and a payment more (the idempotency guard, three reads, two commits,
/// the provider), so at medium priority each waited behind the whole backlog several times
/// over: reserve p99 0.9 s and pay p99 1.5 s at 100,000 shoppers (issue 15). The executor
/// serves higher priorities first, also on Linux, so shoppers who were admitted finish
/// ahead of those still waiting, whose polls can afford the delay. Checkout volume is
/// bounded by the admission rate, so it cannot starve the waiting room.
enum CheckoutPriority {
    static let priority = TaskPriority.high

    /// Runs `work` at checkout priority and returns its result. The work is not cancelled
    /// with the request: what it decides is recorded under the request's idempotency key,
    /// and a retry finds it there.
    static func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Task(priority: priority, operation: work).value
    }
}
