import Synchronization

/// Runs `work` in a task of its own and answers its result, or throws `error` once `limit`
/// passes, or `CancellationError` once the calling task is cancelled; the work is then
/// cancelled and left behind. A task group cannot do this: it waits for every child, and a
/// postgres-nio call on a lost connection may never return nor heed cancellation (issue
/// 12's fault tests: a batch commit, the readiness ping, the expiry sweep).
public func abandoning<T: Sendable>(
    after limit: Duration, error: any Error, _ work: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = Outcome<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            outcome.set(continuation)
            let timer = Task(priority: .high) {
                try? await Task.sleep(for: limit)
                if outcome.resume(with: .failure(error)) { outcome.cancelWork() }
            }
            outcome.setWork(
                Task(priority: .high) {
                    do { outcome.resume(with: .success(try await work())) } catch { outcome.resume(with: .failure(error)) }
                    // The limit's sleep ends with the work: every batch commit calls this, and a
                    // timer left sleeping for the whole limit would pile up one per commit.
                    timer.cancel()
                })
        }
    } onCancel: {
        // A service stopping for shutdown does not wait out the limit of a pass in flight.
        if outcome.resume(with: .failure(CancellationError())) { outcome.cancelWork() }
    }
}

/// A continuation resumed once, by whichever of the work and its time limit comes first.
private final class Outcome<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, any Error>?, result: Result<T, any Error>?)>((nil, nil))
    /// The work's task, and whether the limit passed before it was known.
    private let work = Mutex<(task: Task<Void, Never>?, timedOut: Bool)>((nil, false))

    func setWork(_ task: Task<Void, Never>) {
        if work.withLock({ $0.task = task; return $0.timedOut }) { task.cancel() }
    }

    /// Cancels the work once the limit has passed (it may heed it and free what it holds).
    func cancelWork() {
        work.withLock { $0.timedOut = true; return $0.task }?.cancel()
    }

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { state -> Result<T, any Error>? in
            if let result = state.result { return result }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// True when this call resumed the continuation (or will, when it is set).
    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        let (first, continuation) = state.withLock { state -> (Bool, CheckedContinuation<T, any Error>?) in
            guard state.result == nil else { return (false, nil) }
            state.result = result
            let continuation = state.continuation
            state.continuation = nil
            return (true, continuation)
        }
        continuation?.resume(with: result)
        return first
    }
}
