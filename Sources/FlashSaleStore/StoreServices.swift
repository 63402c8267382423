import ServiceLifecycle

/// Runs `work` while the store's services (the PostgreSQL pool) run beside it, for
/// commands and tests that use a store outside the application's service group.
public func withStoreServices<T: Sendable>(_ store: any Store, _ work: @Sendable () async throws -> T) async throws -> T {
    let services = store.services
    if services.isEmpty { return try await work() }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        for service in services {
            group.addTask { try await service.run() }
        }
        defer { group.cancelAll() }
        // Let the services' tasks start before the work leases a connection.
        for _ in 0..<8 { await Task.yield() }
        return try await work()
    }
}
