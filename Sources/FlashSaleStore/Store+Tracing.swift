import Tracing

extension Store {
    /// Runs `body`, one of this store's transactions, in a client span `db OPERATION`, a
    /// child of the caller's span. On SQLite the span includes the wait for the group
    /// commit that carries the write (`GroupCommit`): the time the caller waits for it.
    public func traced<T>(
        _ operation: String, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async throws -> T {
        try await withSpan("db \(operation)", ofKind: .client) { span in
            span.attributes["db.system.name"] = kind
            span.attributes["db.operation.name"] = operation
            return try await body()
        }
    }
}
