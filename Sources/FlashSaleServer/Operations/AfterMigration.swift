import ServiceLifecycle

/// Runs `service` once the store is migrated (`Readiness.markMigrated`), and not at all
/// when the node shuts down first.
///
/// Why: the application's services start beside its `beforeServerStarts`, which migrates.
/// A background loop that queried a database still being migrated (by this node, or by
/// another node holding the migration lock) deadlocked with the migration's DDL: migration
/// 8's `CREATE INDEX` on reservations against an expiry sweep's writes; the migration
/// failed and the node exited before listening (CI run of 2026-12-02, ShieldNodesTests).
struct AfterMigration: Service {
    let readiness: Readiness
    let service: any Service

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await readiness.waitUntilMigrated() }
        } catch is CancellationError {
            return
        }
        try await service.run()
    }
}
