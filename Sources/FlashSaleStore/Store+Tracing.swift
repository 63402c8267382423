import Synchronization
import Tracing

/// Whether the process exports traces (`TracingSetup` turns it on at start-up, once).
///
/// Off, even the no-op tracer costs about 0.75 µs per span (a read of the global tracer
/// under its lock, a task-local bound), measured here: several per payment. Spans on a
/// request's path check this first and cost one atomic load instead.
public enum TracingSwitch {
    private static let on = Atomic<Bool>(false)

    public static var isOn: Bool { on.load(ordering: .relaxed) }

    public static func turnOn() { on.store(true, ordering: .relaxed) }
}

/// `withSpan` while tracing is on; `body` alone, with a no-op span, while it is off.
public func withSpanWhenTracing<T>(
    _ operationName: String, ofKind kind: SpanKind = .internal, isolation: isolated (any Actor)? = #isolation,
    _ body: (any Span) async throws -> T
) async throws -> T {
    guard TracingSwitch.isOn else { return try await body(NoOpTracer.NoOpSpan(context: .topLevel)) }
    return try await withSpan(operationName, ofKind: kind, body)
}

extension Store {
    /// Runs `body`, one of this store's transactions, in a client span `db OPERATION`, a
    /// child of the caller's span. On SQLite the span includes the wait for the group
    /// commit that carries the write (`GroupCommit`): the time the caller waits for it.
    public func traced<T>(
        _ operation: String, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async throws -> T {
        try await withSpanWhenTracing("db \(operation)", ofKind: .client) { span in
            span.attributes["db.system.name"] = kind
            span.attributes["db.operation.name"] = operation
            return try await body()
        }
    }
}
