import FlashSaleBench
import FlashSaleCore
import Foundation
import NIOHTTP1
import Testing

extension CrowdScaleTests {
    /// The waiting room's promises checked against a spawned server over real HTTP, with the
    /// same definitions as the deterministic simulation (WaitingRoomSimulationTests): a crowd
    /// with bursty arrivals that polls as told and partly abandons; the admitted buy at once,
    /// so the sale sells out.
    @Suite(.serialized) struct WaitingRoomHTTPTests {
        struct Shopper: Sendable {
            var arrival: Date?
            var admittedAt: Date?
            var lastPollInterval = 0.25
            /// When its last poll went out, and the gap before it: a starved client polls later
            /// than told, and may be overtaken by that much without the server being unfair.
            var lastPollSent: Date?
            var lastPollGap = 0.0
            var pollsAfterSoldOut: [(at: Date, status: String)] = []
        }

        @Test(.timeLimit(.minutes(10))) func aCrowdIsAdmittedInOrderAtTheRateAndToldWhenItIsOver() async throws {
            let (database, folder) = try temporaryDatabase()
            defer { try? FileManager.default.removeItem(at: folder) }
            let server = try await ServerProcess.start(database: database)
            defer { server.stop() }
            // Enough units that admissions run well past one 5 s window at the rate.
            let (quantity, rate, crowd) = (150, 20, 400)
            let created = try await server.send(
                .POST, "/api/v1/admin/sales", headers: server.admin,
                json: saleJSON(["quantity": quantity, "admission_rate_per_second": rate, "starts_at": Timestamp.format(Date())]))
            let sale = try #require(created.json["id"] as? String)
            let signer = PassSigner(secret: "s3cret")
            let shoppers = Locked([Shopper](repeating: Shopper(), count: crowd))
            let statuses = Locked([String: Int]())
            let soldOutAt = Locked<Date?>(nil)
            var generator = SplitMix64(seed: 11)
            // A burst: 70% within the first second, the rest over the next four.
            let arrivals = (0..<crowd).map { _ in
                Double.random(in: 0..<1, using: &generator) < 0.7 ? Double.random(in: 0..<1, using: &generator)
                    : Double.random(in: 1..<5, using: &generator)
            }
            let abandons = (0..<crowd).map { _ in Double.random(in: 0..<1, using: &generator) < 0.25 }
            let patience = (0..<crowd).map { _ in Double.random(in: 1..<8, using: &generator) }
            let start = Date()

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // When the last unit is sold: from then on, every poll a second later must say so.
                    while soldOutAt.withLock({ $0 }) == nil {
                        let stats = try await server.send(.GET, "/api/v1/admin/sales/\(sale)/stats", headers: server.admin).json
                        if stats["sold"] as? Int == quantity { soldOutAt.withLock { $0 = Date() } }
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
                for index in 0..<crowd {
                    group.addTask {
                        try await Task.sleep(for: .seconds(arrivals[index]))
                        var pass = ""
                        var method = HTTPMethod.POST  // join once, then poll
                        while true {
                            if abandons[index] && Date().timeIntervalSince(start) > arrivals[index] + patience[index] { return }
                            let sent = Date()
                            shoppers.withLock {
                                if let last = $0[index].lastPollSent { $0[index].lastPollGap = sent.timeIntervalSince(last) }
                                $0[index].lastPollSent = sent
                            }
                            let reply = try await server.send(
                                method, "/api/v1/sales/\(sale)/queue", headers: pass.isEmpty ? [] : [("X-Queue-Pass", pass)])
                            let received = Date()
                            method = .GET
                            statuses.withLock { $0["\(reply.status)", default: 0] += 1 }
                            guard reply.status == 200, let token = reply.json["pass"] as? String else { return }
                            pass = token
                            let status = reply.json["status"] as? String ?? ""
                            if let soldOut = soldOutAt.withLock({ $0 }), received > soldOut.addingTimeInterval(1) {
                                shoppers.withLock { $0[index].pollsAfterSoldOut.append((received, status)) }
                            }
                            let decoded = signer.verify(token)
                            shoppers.withLock { $0[index].arrival = decoded?.firstArrival }
                            switch status {
                            case "admitted":
                                shoppers.withLock { $0[index].admittedAt = decoded?.admittedAt }
                                try await buy(server: server, sale: sale, pass: token, shopper: index)
                                return
                            case "sold_out", "ended":
                                return
                            default:
                                let wait = reply.json["poll_after_ms"] as? Int ?? 1_000
                                #expect((250...5_000).contains(wait))
                                shoppers.withLock { $0[index].lastPollInterval = Double(wait) / 1000 }
                                try await Task.sleep(for: .milliseconds(wait))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }

            let everyone = shoppers.withLock { $0 }
            #expect(statuses.withLock { $0 }.keys.allSatisfy { $0 == "200" }, "never a 429: \(statuses.withLock { $0 })")
            // First come, first served, as the simulation defines it: within the interval the
            // shopper was told, or the one it actually took when the machine starved the client.
            let admitted = everyone.filter { $0.admittedAt != nil && $0.arrival != nil }.sorted { $0.arrival! < $1.arrival! }
            var (pairs, inverted) = (0, 0)
            for i in admitted.indices {
                for j in admitted.indices where j > i {
                    pairs += 1
                    let forgiven = max(admitted[i].lastPollInterval, admitted[i].lastPollGap, 0.25)
                    if admitted[j].admittedAt! < admitted[i].admittedAt!.addingTimeInterval(-forgiven) {
                        inverted += 1
                    }
                }
            }
            #expect(admitted.count >= quantity, "everyone who bought was admitted first")
            // Issue 13 §1: every admitted shopper buys at once, so admissions do not outrun the stock.
            #expect(Double(admitted.count) <= Double(quantity) * 1.005, "\(admitted.count) admitted for \(quantity) units")
            #expect(pairs > 10_000)
            #expect(Double(pairs - inverted) >= 0.95 * Double(pairs), "\(inverted) of \(pairs) pairs inverted")
            // The rate, over any 5 s: at most 20% above it.
            let times = admitted.map { $0.admittedAt!.timeIntervalSince1970 }.sorted()
            var (low, busiest) = (0, 0)
            for high in times.indices {
                while times[high] - times[low] > 5 { low += 1 }
                busiest = max(busiest, high - low + 1)
            }
            #expect(busiest <= rate * 6, "\(busiest) admissions in one 5 s window at \(rate)/s")
            #expect(busiest >= rate * 3, "the crowd kept the rate busy: \(busiest)")
            print("waiting room over HTTP: \(admitted.count) admitted, \(inverted) of \(pairs) pairs inverted, busiest 5 s: \(busiest)")
            // Everyone still polling more than a second after the sell-out was told.
            #expect(soldOutAt.withLock { $0 } != nil)
            let told = everyone.flatMap(\.pollsAfterSoldOut)
            let late = told.filter { $0.status != "sold_out" }
            print("polls more than 1 s after the sell-out: \(told.count), not told: \(late.count)")
            #expect(late.isEmpty, "\(late.count) polls after the sell-out were not told")
        }

        /// Reserves and pays at once (the in-process provider charges the test card).
        /// Issue 13 §2 over HTTP: 100 units at 1 admission/s; 30 shoppers join within 20 ms of
        /// the start, then five more about 5 s apart; all poll as told and buy at once. Nobody
        /// is overtaken by a shopper who arrived more than 1 s later (forgiving a client that
        /// polled later than told by that much), and while someone waits, every 5 s window
        /// after the first admits some (the 90% rate figure is the simulation's, where time is
        /// exact: LineStallTests; here the machine may be starved).
        @Test(.timeLimit(.minutes(10))) func aBurstThenStragglersAreAdmittedInOrderWithoutAStall() async throws {
            let (database, folder) = try temporaryDatabase()
            defer { try? FileManager.default.removeItem(at: folder) }
            let server = try await ServerProcess.start(database: database)
            defer { server.stop() }
            let created = try await server.send(
                .POST, "/api/v1/admin/sales", headers: server.admin,
                json: saleJSON(["quantity": 100, "admission_rate_per_second": 1, "starts_at": Timestamp.format(Date())]))
            let sale = try #require(created.json["id"] as? String)
            let signer = PassSigner(secret: "s3cret")
            let burst: [Double] = (0..<30).map { Double($0) * 0.02 / 30 }
            let stragglers: [Double] = (1...5).map { 1.6 + Double($0) * 5 }
            let offsets = burst + stragglers
            let shoppers = Locked([Shopper](repeating: Shopper(), count: offsets.count))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in offsets.indices {
                    group.addTask {
                        try await Task.sleep(for: .seconds(offsets[index]))
                        var pass = ""
                        while true {
                            let sent = Date()
                            shoppers.withLock {
                                if let last = $0[index].lastPollSent { $0[index].lastPollGap = sent.timeIntervalSince(last) }
                                $0[index].lastPollSent = sent
                            }
                            let reply = try await server.send(
                                pass.isEmpty ? .POST : .GET, "/api/v1/sales/\(sale)/queue", headers: pass.isEmpty ? [] : [("X-Queue-Pass", pass)])
                            guard reply.status == 200, let token = reply.json["pass"] as? String else {
                                Issue.record("\(reply.status) \(reply.text)")
                                return
                            }
                            pass = token
                            let decoded = signer.verify(token)
                            shoppers.withLock { $0[index].arrival = decoded?.firstArrival }
                            if reply.json["status"] as? String == "admitted" {
                                shoppers.withLock { $0[index].admittedAt = decoded?.admittedAt }
                                try await buy(server: server, sale: sale, pass: token, shopper: index)
                                return
                            }
                            let wait = reply.json["poll_after_ms"] as? Int ?? 1_000
                            shoppers.withLock { $0[index].lastPollInterval = Double(wait) / 1000 }
                            try await Task.sleep(for: .milliseconds(wait))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let everyone = shoppers.withLock { $0 }
            #expect(everyone.allSatisfy { $0.admittedAt != nil && $0.arrival != nil })
            var overtaken: [String] = []
            for early in everyone {
                for late in everyone where late.arrival! > early.arrival!.addingTimeInterval(1) {
                    let forgiven = max(early.lastPollGap - early.lastPollInterval, 0) + 0.35
                    if late.admittedAt! < early.admittedAt!.addingTimeInterval(-forgiven) {
                        overtaken.append("arrived \(early.arrival!) admitted \(early.admittedAt!), after one who arrived \(late.arrival!)")
                    }
                }
            }
            #expect(overtaken.isEmpty, "\(overtaken.prefix(3))")
            // No stall: while someone waits, no 5 s passes without an admission.
            let times: [Date] = everyone.compactMap { (shopper: Shopper) in shopper.admittedAt }.sorted()
            for (a, b) in zip(times, times.dropFirst()) where b.timeIntervalSince(a) >= 5 {
                let waiting = everyone.contains { $0.arrival! <= a && $0.admittedAt! >= b }
                #expect(!waiting, "no admission from \(a) to \(b) while shoppers waited")
            }
            print("burst and stragglers over HTTP: \(times.count) admitted in \(times.last!.timeIntervalSince(times.first!)) s")
        }

        /// Issue 13 §1 over HTTP: 30% of the admitted walk away without reserving. The learnt
        /// no-show factor admits others in their place, so the sale still sells out, and while
        /// shoppers wait no pause in admissions lasts a pass lifetime (here 600 s; it is about
        /// the 10 s decision time).
        @Test(.timeLimit(.minutes(10))) func walkAwaysAmongTheAdmittedDoNotStallTheSale() async throws {
            let (database, folder) = try temporaryDatabase()
            defer { try? FileManager.default.removeItem(at: folder) }
            let server = try await ServerProcess.start(database: database)
            defer { server.stop() }
            let (quantity, crowd) = (60, 300)
            let created = try await server.send(
                .POST, "/api/v1/admin/sales", headers: server.admin,
                json: saleJSON(["quantity": quantity, "admission_rate_per_second": 20, "reservation_ttl_seconds": 600]))
            let sale = try #require(created.json["id"] as? String)
            var generator = SplitMix64(seed: 21)
            let walksAway = (0..<crowd).map { _ in Double.random(in: 0..<1, using: &generator) < 0.3 }
            let admittedAt = Locked([Date?](repeating: nil, count: crowd))
            let soldOut = Locked(false)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<crowd {
                    group.addTask {
                        var pass = ""
                        while !soldOut.withLock({ $0 }) {
                            let reply = try await server.send(
                                pass.isEmpty ? .POST : .GET, "/api/v1/sales/\(sale)/queue", headers: pass.isEmpty ? [] : [("X-Queue-Pass", pass)])
                            guard reply.status == 200, let token = reply.json["pass"] as? String else { return }
                            pass = token
                            // Every unit is held (they are never paid here): nothing is left to wait for.
                            if reply.json["available"] as? Int == 0 && reply.json["status"] as? String != "admitted" {
                                soldOut.withLock { $0 = true }
                                return
                            }
                            switch reply.json["status"] as? String {
                            case "admitted":
                                admittedAt.withLock { $0[index] = Date() }
                                if !walksAway[index] {
                                    let reserved = try await server.send(
                                        .POST, "/api/v1/sales/\(sale)/reservations", headers: [("X-Queue-Pass", token), ("Idempotency-Key", "w\(index)")],
                                        json: #"{"email": "walk\#(index)@example.com"}"#)
                                    if reserved.status == 409 { soldOut.withLock { $0 = true } }
                                }
                                return
                            case "sold_out", "ended":
                                soldOut.withLock { $0 = true }
                                return
                            default:
                                try await Task.sleep(for: .milliseconds(reply.json["poll_after_ms"] as? Int ?? 1_000))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let stats = try await server.send(.GET, "/api/v1/admin/sales/\(sale)/stats", headers: server.admin).json
            #expect(stats["available"] as? Int == 0, "every unit went to someone who reserved: \(stats)")
            let times: [Date] = admittedAt.withLock { $0 }.compactMap { $0 }.sorted()
            let longest = zip(times, times.dropFirst()).map { $1.timeIntervalSince($0) }.max() ?? 0
            #expect(longest < 120, "longest pause between admissions \(longest) s")
            print("walk-aways over HTTP: \(times.count) admitted for \(quantity) units, longest pause \(longest) s")
        }

        private func buy(server: ServerProcess, sale: String, pass: String, shopper: Int) async throws {
            let reserved = try await server.send(
                .POST, "/api/v1/sales/\(sale)/reservations", headers: [("X-Queue-Pass", pass), ("Idempotency-Key", "r\(shopper)")],
                json: #"{"email": "fair\#(shopper)@example.com", "quantity": 1}"#)
            guard reserved.status == 201, let reservation = reserved.json["reservation_id"] as? String else { return }
            let paid = try await server.send(
                .POST, "/api/v1/reservations/\(reservation)/payment", headers: [("Idempotency-Key", "p\(shopper)")],
                json: CheckoutProcessTests.paymentJSON(shopper: shopper))
            #expect(paid.status == 201, "\(paid.text)")
        }
    }
}
