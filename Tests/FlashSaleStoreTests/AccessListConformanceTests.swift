import FlashSaleCore
import FlashSaleStore
import Foundation
import Synchronization
import Testing

/// The access lists behave alike on every store. Stores may be shared with other tests
/// (one PostgreSQL database), so each test uses networks of its own.
@Suite struct AccessListConformanceTests {
    /// A /32 (or /128) nobody else uses.
    static func uniqueNetwork(ipv6: Bool = false) -> CIDR {
        let bytes = withUnsafeBytes(of: UUID().uuid) { Array($0) }
        if ipv6 { return CIDR(IPAddress.format([0x20, 0x01, 0x0d, 0xb8] + Array(bytes[0..<12])) + "/128")! }
        return CIDR("10.\(bytes[0]).\(bytes[1]).\(bytes[2])/32")!
    }

    @Test(arguments: StoreKind.enabled) func rulesAreAddedReplacedListedAndRemoved(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let now = Date()
            let v4 = Self.uniqueNetwork()
            let v6 = Self.uniqueNetwork(ipv6: true)
            let before = try await store.accessListVersion()
            _ = try await store.putAccessRule(AccessRule(list: .block, cidr: v4, reason: "flood", createdAt: now))
            _ = try await store.putAccessRule(AccessRule(list: .allow, cidr: v6, reason: "office", createdAt: now))
            // The same network on the same list is one rule: its reason is replaced, and it
            // keeps the instant it was first made.
            let replaced = try await store.putAccessRule(
                AccessRule(list: .block, cidr: v4, reason: "flood, again", createdAt: now.addingTimeInterval(60)))
            #expect(abs(replaced.createdAt.timeIntervalSince(now)) < 0.001 && replaced.reason == "flood, again")
            // The same network may stand on both lists.
            _ = try await store.putAccessRule(AccessRule(list: .allow, cidr: v4, reason: "monitoring", createdAt: now))
            let afterAdding = try await store.accessListVersion()
            #expect(afterAdding > before)

            let mine = try await store.accessRules(now: now).filter { $0.cidr == v4 || $0.cidr == v6 }
            #expect(mine.count == 3)
            #expect(mine.first { $0.list == .block && $0.cidr == v4 }?.reason == "flood, again")
            #expect(mine.first { $0.list == .allow && $0.cidr == v6 }?.reason == "office")

            #expect(try await store.removeAccessRule(list: .block, cidr: v4))
            #expect(try await !store.removeAccessRule(list: .block, cidr: v4), "a second delete finds nothing")
            #expect(try await store.accessListVersion() > afterAdding)
            let left = try await store.accessRules(now: now).filter { $0.cidr == v4 }
            #expect(left.map(\.list) == [.allow])
            _ = try await store.removeAccessRule(list: .allow, cidr: v4)
            _ = try await store.removeAccessRule(list: .allow, cidr: v6)
        }
    }

    @Test(arguments: StoreKind.enabled) func expiredRulesAreNotListed(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let now = Date()
            let network = Self.uniqueNetwork()
            _ = try await store.putAccessRule(
                AccessRule(list: .block, cidr: network, reason: "ten minutes", createdAt: now, expiresAt: now.addingTimeInterval(600)))
            #expect(try await store.accessRules(now: now).contains { $0.cidr == network })
            #expect(try await !store.accessRules(now: now.addingTimeInterval(601)).contains { $0.cidr == network })
            let stored = try #require(try await store.accessRules(now: now).first { $0.cidr == network })
            #expect(abs(try #require(stored.expiresAt).timeIntervalSince(now.addingTimeInterval(600))) < 0.001)
            _ = try await store.removeAccessRule(list: .block, cidr: network)
        }
    }

    /// PostgreSQL tells listeners of a change when it commits; SQLite has nothing to
    /// listen to and returns at once (nodes poll the version instead).
    @Test(arguments: StoreKind.enabled) func listenersHearOfChanges(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            guard kind == .postgres else {
                try await store.listen(to: .accessLists) {}
                return
            }
            let heard = Mutex(0)
            let (signal, continuation) = AsyncStream.makeStream(of: Void.self)
            let listener = Task {
                try await store.listen(to: .accessLists) {
                    heard.withLock { $0 += 1 }
                    continuation.yield()
                }
            }
            defer { listener.cancel() }
            let network = Self.uniqueNetwork()
            // The LISTEN may not be in place yet: change the list until a notification comes.
            let changer = Task {
                // A failed change ends the wait instead of leaving it hanging.
                defer { continuation.finish() }
                while !Task.isCancelled {
                    _ = try await store.putAccessRule(AccessRule(list: .block, cidr: network, reason: "notify", createdAt: Date()))
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            defer { changer.cancel() }
            var iterator = signal.makeAsyncIterator()
            #expect(await iterator.next() != nil, "a change was heard")
            #expect(heard.withLock { $0 } >= 1)
            changer.cancel()
            _ = try? await changer.value
            _ = try await store.removeAccessRule(list: .block, cidr: network)
        }
    }
}
