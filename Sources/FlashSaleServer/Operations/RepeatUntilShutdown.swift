import FlashSaleStore
import Logging
import ServiceLifecycle

/// Runs `body` every `interval` until shutdown; a failed pass is logged under `failure`
/// and the next pass tries again (so a service resumes by itself once a database that went
/// away is back; the log line then says so, with postgres-nio's details).
///
/// A pass still running after `limit` is abandoned (cancelled and left behind, not
/// awaited) and logged the same way. postgres-nio may never answer a query whose
/// connection closed under it (vapor/postgres-nio#487, whose fix #501 reverted): after a
/// PostgreSQL restart one such sweep held both nodes' expiry sweepers for good, and units
/// stayed reserved (issue 12's fault test). Passes must therefore tolerate one abandoned
/// before them finishing late: each of ours claims its rows (SKIP LOCKED, leases) or
/// writes what it read.
func repeatUntilShutdown(
    every interval: Duration, limit: Duration, logger: Logger, failure: String, level: Logger.Level = .warning,
    _ body: @escaping @Sendable () async throws -> Void
) async throws {
    try await repeatUntilShutdown(every: interval) {
        do {
            try await withTimeout(limit, body)
        } catch let error where !Task.isCancelled {
            if StoreUnavailable.isUnavailable(error) {
                logger.log(
                    level: level, "\(failure)", metadata: ["error": "the database cannot be reached: \(String(reflecting: error))"])
            } else {
                logger.log(level: level, "\(failure)", metadata: ["error": "\(error)"])
            }
        } catch {}
    }
}

/// A call that did not finish within `limit` (`withTimeout`).
struct TimeoutError: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "no answer within \(limit); abandoned" }
}

/// Runs `work`, failing with `TimeoutError` once `limit` passes (the work is abandoned,
/// not awaited: `abandoning`).
func withTimeout<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await abandoning(after: limit, error: TimeoutError(limit: limit), work)
}

/// Runs `body` every `interval` until the service group shuts down gracefully.
func repeatUntilShutdown(every interval: Duration, _ body: @escaping @Sendable () async -> Void) async throws {
    do {
        try await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                await body()
            }
        }
    } catch is CancellationError {
        // Shutdown: the loop ends quietly.
    }
}

/// Listens to `feed` until shutdown, calling `changed` on every notification and listening
/// again `retry` after a failure (the store restarted); returns at once on a store without
/// notifications. The callers also re-read on a timer: a notification lost while the
/// listener reconnects is caught there.
func listenUntilShutdown(
    to feed: ChangeFeed, on store: any Store, retry: Duration, logger: Logger, _ changed: @escaping @Sendable () async -> Void
) async {
    try? await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            do {
                try await store.listen(to: feed, changed)
                return
            } catch where !Task.isCancelled {
                logger.warning("\(feed.rawValue) notifications lost; listening again", metadata: ["error": "\(error)"])
                try await Task.sleep(for: retry)
            }
        }
    }
}
