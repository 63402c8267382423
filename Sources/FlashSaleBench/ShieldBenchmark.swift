import FlashSaleCore
import Foundation

/// The edge shield's per-request costs, in process: the access-list lookup with 100,000
/// networks (a longest-prefix trie against a scan of the same list, side by side), the
/// per-client token bucket with a million distinct clients (time per take, and the memory
/// the bounded table holds), and the time to build the tables a node swaps in on a change.
public struct ShieldBenchmark: Sendable {
    public struct Result: Sendable {
        public var networks: Int
        public var trieLookupNanoseconds: Double
        public var scanLookupNanoseconds: Double
        public var tableBuildMilliseconds: Double
        public var distinctClients: Int
        public var limiterCapacity: Int
        public var limiterHeld: Int
        /// Every take a client never seen (the table full: each one evicts).
        public var takeNanoseconds: Double
        /// Takes by clients already in the table (a crowd polling).
        public var knownTakeNanoseconds: Double
        public var limiterMiB: Double
    }

    public let networks: Int
    public let clients: Int
    public let capacity: Int
    public let seed: UInt64

    public init(networks: Int = 100_000, clients: Int = 1_000_000, capacity: Int = 100_000, seed: UInt64 = 7) {
        self.networks = networks
        self.clients = clients
        self.capacity = capacity
        self.seed = seed
    }

    public func run() -> Result {
        var generator = SplitMix64(seed: seed)
        // Networks as an operator's blocklist holds them: mostly IPv4 /16…/32, some IPv6.
        let rules: [CIDR] = (0..<networks).map { index in
            if index % 5 == 4 {
                let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
                return CIDR(address: bytes, prefixLength: Int.random(in: 32...128, using: &generator))!
            }
            let bytes = (0..<4).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return CIDR(address: bytes, prefixLength: Int.random(in: 16...32, using: &generator))!
        }
        let probes: [[UInt8]] = (0..<100_000).map { index in
            (0..<(index % 5 == 4 ? 16 : 4)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }

        let buildStart = ContinuousClock.now
        let table = CIDRTable(rules.map { ($0, true) })
        let build = (ContinuousClock.now - buildStart).seconds

        var hits = 0
        let lookups = 1_000_000
        let trieStart = ContinuousClock.now
        for index in 0..<lookups where table.value(matching: probes[index % probes.count]) != nil { hits += 1 }
        let trie = (ContinuousClock.now - trieStart).seconds / Double(lookups)

        // The baseline: the list scanned for every request (a few thousand lookups suffice).
        let scans = 2_000
        let scanStart = ContinuousClock.now
        for index in 0..<scans where rules.contains(where: { $0.contains(probes[index]) }) { hits += 1 }
        let scan = (ContinuousClock.now - scanStart).seconds / Double(scans)

        let rssBefore = Self.residentMiB()
        let limiter = SharedClientRateLimiter<[UInt8]>(policy: .init(requestsPerMinute: 600, burst: 200), capacity: capacity)
        let takeStart = ContinuousClock.now
        for client in 0..<clients {
            let address: [UInt8] = [10, UInt8(client >> 16 & 0xFF), UInt8(client >> 8 & 0xFF), UInt8(client & 0xFF)]
            _ = limiter.take(key: address, now: Double(client) / 50_000)
        }
        let take = (ContinuousClock.now - takeStart).seconds / Double(clients)
        let rssAfter = Self.residentMiB()
        // The same limiter, now taken by the last 10,000 clients it saw, over and over.
        let knownStart = ContinuousClock.now
        let known = 1_000_000
        for index in 0..<known {
            let client = clients - 1 - index % 10_000
            let address: [UInt8] = [10, UInt8(client >> 16 & 0xFF), UInt8(client >> 8 & 0xFF), UInt8(client & 0xFF)]
            _ = limiter.take(key: address, now: Double(clients) / 50_000 + Double(index) / 1_000_000)
        }
        let knownTake = (ContinuousClock.now - knownStart).seconds / Double(known)
        precondition(hits >= 0)
        return Result(
            networks: networks, trieLookupNanoseconds: trie * 1e9, scanLookupNanoseconds: scan * 1e9,
            tableBuildMilliseconds: build * 1000, distinctClients: clients, limiterCapacity: capacity, limiterHeld: limiter.count,
            takeNanoseconds: take * 1e9, knownTakeNanoseconds: knownTake * 1e9, limiterMiB: rssAfter - rssBefore)
    }

    /// This process's resident memory in MiB, from /proc/self/status (-1 elsewhere).
    static func residentMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kB = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return -1 }
        return kB / 1024
    }
}
