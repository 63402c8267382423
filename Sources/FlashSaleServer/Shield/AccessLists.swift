import FlashSaleCore
import FlashSaleStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// This node's copy of the operator's block and allow lists: two longest-prefix tables,
/// rebuilt from the store whenever its version moves and swapped in whole. A lookup costs
/// O(prefix length) (`CIDRTable`), whatever the number of rules.
///
/// An allowed address (the shop's office, monitoring) skips the blocklist and the
/// per-client limits, never authentication.
final class AccessLists: Sendable {
    enum Verdict: Sendable, Equatable {
        case allowed
        case blocked(AccessRule)
        case unlisted
    }

    struct Snapshot: Sendable {
        var version: Int64 = -1
        var block = CIDRTable<AccessRule>()
        var allow = CIDRTable<AccessRule>()
        /// The earliest expiry among the rules: at that instant the tables are rebuilt.
        var nextExpiry: Date?
    }

    private let store: any AccessListStore
    private let snapshot = Mutex(Snapshot())

    init(store: any AccessListStore) {
        self.store = store
    }

    var rulesLoaded: Int { snapshot.withLock { $0.block.count + $0.allow.count } }

    /// What the lists say of `address` (canonical bytes). A rule that expired since the
    /// last rebuild no longer counts.
    func verdict(for address: [UInt8], now: Date) -> Verdict {
        // Copying the snapshot retains its arrays; the lookups run outside the lock.
        let current = snapshot.withLock { $0 }
        if let (_, rule) = current.allow.lookup(address), rule.isActive(at: now) { return .allowed }
        if let (_, rule) = current.block.lookup(address), rule.isActive(at: now) { return .blocked(rule) }
        return .unlisted
    }

    /// Re-reads the lists when the store's version moved or a rule expired; answers
    /// whether it did.
    @discardableResult
    func refresh(now: Date = Date(), force: Bool = false) async throws -> Bool {
        let version = try await store.accessListVersion()
        let (known, nextExpiry) = snapshot.withLock { ($0.version, $0.nextExpiry) }
        guard force || version != known || nextExpiry.map({ now >= $0 }) == true else { return false }
        let rules = try await store.accessRules(now: now)
        var fresh = Snapshot(version: version)
        fresh.block = CIDRTable(rules.filter { $0.list == .block }.map { ($0.cidr, $0) })
        fresh.allow = CIDRTable(rules.filter { $0.list == .allow }.map { ($0.cidr, $0) })
        fresh.nextExpiry = rules.compactMap(\.expiresAt).min()
        snapshot.withLock { current in
            // Two refreshes may race; the one that read the newer version wins.
            if fresh.version >= current.version { current = fresh }
        }
        return true
    }
}

/// Keeps `AccessLists` current: on PostgreSQL a change on any node arrives by
/// LISTEN/NOTIFY within milliseconds; every `interval` the version is read as well (the
/// fallback, and the only way on SQLite), so a change reaches every node within that
/// interval even if a notification is lost.
struct AccessListRefresher: Service {
    let lists: AccessLists
    let store: any Store
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                try? await repeatUntilShutdown(every: interval, limit: .seconds(10), logger: logger, failure: "access list refresh failed") {
                    try await lists.refresh()
                }
            }
            group.addTask { await listen() }
        }
    }

    private func listen() async {
        await listenUntilShutdown(to: .accessLists, on: store, retry: interval, logger: logger) {
            do { try await lists.refresh() } catch { logger.warning("access list refresh failed", metadata: ["error": "\(error)"]) }
        }
    }
}
