import FlashSaleBench
import FlashSaleCore
import FlashSalePayments
import Foundation
import Testing

/// Checkout against a provider that breaks: a spawned `flashsale psp` with faults, a
/// spawned shop that is killed at the worst moment, and the ledgers compared afterwards.
/// Each runs on a SQLite file and, when configured, on PostgreSQL.
@Suite(.serialized) struct CheckoutProcessTests {
    static var databases: [String] {
        ["sqlite"] + (ProcessInfo.processInfo.environment["FLASHSALE_TEST_POSTGRES_URL"] != nil ? ["postgres"] : [])
    }

    @Test(arguments: databases) func killNineAfterTheChargeIsFinishedByTheReconciler(database: String) async throws {
        try await withShopAndProvider(database: database, providerFaults: ["--timeout-rate", "1", "--seed", "1"]) { env in
            let (sale, charge, _) = try await env.killShopAfterTheCharge(ttl: 600)
            try await env.restartShop()
            // Nobody retries: the reconciler finds the charge and completes the order.
            let stats = try await eventually { () async throws -> [String: Any]? in
                let stats = try await env.stats(sale)
                return stats["sold"] as? Int == 1 ? stats : nil
            }
            #expect(stats["orders"] as? Int == 1 && stats["reserved"] as? Int == 0)
            let order = try await env.shop.send(.GET, "/api/v1/orders/\(charge.reference)").json
            #expect(order["status"] as? String == "paid")
            #expect(try await env.ledger().refunds.isEmpty)
        }
    }

    @Test(arguments: databases) func killNineAfterTheChargeAndPastExpiryEndsInARefund(database: String) async throws {
        try await withShopAndProvider(database: database, providerFaults: ["--timeout-rate", "1", "--seed", "2"]) { env in
            let (sale, charge, expiresBy) = try await env.killShopAfterTheCharge(ttl: 5)
            // The reservation expires while the shop is down: wait until its expiry has passed.
            try await Task.sleep(for: .seconds(max(0, expiresBy.timeIntervalSinceNow) + 0.5))
            try await env.restartShop()
            let refund = try await eventually { try await env.ledger().refunds.first }
            #expect(refund.chargeID == charge.id)
            let order = try await eventually { () async throws -> [String: Any]? in
                let order = try await env.shop.send(.GET, "/api/v1/orders/\(charge.reference)").json
                return order["status"] as? String == "refunded" ? order : nil
            }
            #expect(order["amount_cents"] as? Int == 12_900)
            let stats = try await env.stats(sale)
            #expect(stats["sold"] as? Int == 0 && stats["available"] as? Int == 2)
        }
    }

    /// Issue 4's acceptance: 30% of charges are made and never answered; shoppers retry
    /// with the same key; afterwards the provider's ledger, our orders and our refunds agree.
    @Test(arguments: databases) func thirtyPercentTimeoutsStillAgreeWithTheLedger(database: String) async throws {
        try await withShopAndProvider(
            database: database, providerFaults: ["--timeout-rate", "0.3", "--seed", "42"], shopArguments: ["--payment-timeout-ms", "400"]
        ) { env in
            let quantity = 20
            let sale = try await env.createSale(quantity: quantity, ttl: 600)
            let outcomes = Locked<[Int: Int]>([:])
            try await forEachIndex(26, workers: 13) { shopper in
                guard let reservation = try? await env.reserve(sale, shopper: shopper) else {
                    outcomes.withLock { $0[409, default: 0] += 1 }
                    return
                }
                for _ in 0..<20 {
                    let reply = try await env.shop.send(
                        .POST, "/api/v1/reservations/\(reservation)/payment", headers: [("Idempotency-Key", "pay-\(shopper)")],
                        json: Self.paymentJSON(shopper: shopper))
                    #expect(reply.status < 500, "\(reply.text)")
                    if reply.status != 202 && reply.status != 409 {
                        outcomes.withLock { $0[reply.status, default: 0] += 1 }
                        return
                    }
                    try await Task.sleep(for: .milliseconds(300))
                }
            }
            // Everything settles: no attempt left unknown, every refund delivered.
            let stats = try await eventually { () async throws -> [String: Any]? in
                let stats = try await env.stats(sale)
                let payments = stats["payments"] as? [String: Int] ?? [:]
                return payments["unknown"] == 0 ? stats : nil
            }
            let ledger = try await env.ledger()
            let sold = try #require(stats["sold"] as? Int)
            // More shoppers than units, each with a card and address of their own: all sold.
            #expect(sold == quantity && sold == stats["orders"] as? Int, "\(stats) \(outcomes.withLock { $0 })")
            #expect(outcomes.withLock { $0[201] } == sold, "\(outcomes.withLock { $0 })")
            var paid = 0
            var reservations = Set<String>()
            for charge in ledger.charges {
                let order = try await env.shop.send(.GET, "/api/v1/orders/\(charge.reference)").json
                let status = order["status"] as? String
                let refunded = ledger.refunds.contains { $0.chargeID == charge.id }
                #expect(status == "paid" && !refunded || status == "refunded" && refunded, "\(charge) \(order)")
                if status == "paid" {
                    paid += 1
                    #expect(reservations.insert(order["reservation_id"] as? String ?? "").inserted, "a reservation paid twice")
                }
            }
            #expect(paid == sold, "no order without a charge, no charge without an order or refund")
            #expect(ledger.charges.count >= sold)
        }
    }

    /// Issue 13 §4: a provider that charges every call and withholds 30% of the answers.
    /// Each of 60 shoppers pays once and never retries: each call is answered 201 or 202
    /// (none fails for want of a connection), and every one ends paid, the 202s through the
    /// reconciler, with one charge each. (How fast: `flashsale bench payments`, BENCHMARKS.md.)
    @Test(arguments: databases) func sixtyShoppersPayingOnceThroughAProviderThatWithholdsAnswersAllEndPaid(database: String) async throws {
        try await withShopAndProvider(
            database: database, providerFaults: ["--timeout-rate", "0.3", "--latency-ms", "5", "--seed", "13"],
            shopArguments: ["--payment-timeout-ms", "3000"]
        ) { env in
            let shoppers = 60
            let sale = try await env.createSale(quantity: shoppers, ttl: 600)
            let answers = Locked<[Int: Int]>([:])
            try await forEachIndex(shoppers, workers: shoppers) { shopper in
                let reservation = try await env.reserve(sale, shopper: shopper)
                let reply = try await env.shop.send(
                    .POST, "/api/v1/reservations/\(reservation)/payment", headers: [("Idempotency-Key", "pay-\(shopper)")],
                    json: Self.paymentJSON(shopper: shopper))
                answers.withLock { $0[reply.status, default: 0] += 1 }
            }
            let seen = answers.withLock { $0 }
            #expect(Set(seen.keys).isSubset(of: [201, 202]), "\(seen)")
            let stats = try await eventually { () async throws -> [String: Any]? in
                let stats = try await env.stats(sale)
                return stats["sold"] as? Int == shoppers ? stats : nil
            }
            let payments = stats["payments"] as? [String: Int] ?? [:]
            #expect(payments["failed", default: 0] == 0 && payments["unknown", default: 0] == 0, "\(payments)")
            let ledger = try await env.ledger()
            #expect(ledger.charges.count == shoppers, "one charge per shopper")
            #expect(Set(ledger.charges.map(\.reference)).count == shoppers, "no reference charged twice")
            #expect(ledger.refunds.isEmpty)
        }
    }

    // MARK: Harness

    /// The shop may be replaced by a restart between phases of a test, never during one.
    final class Env: @unchecked Sendable {
        var shop: ServerProcess
        let provider: ServerProcess
        let database: String
        let shopArguments: [String]

        init(shop: ServerProcess, provider: ServerProcess, database: String, shopArguments: [String]) {
            self.shop = shop
            self.provider = provider
            self.database = database
            self.shopArguments = shopArguments
        }

        func createSale(quantity: Int, ttl: Int) async throws -> String {
            let created = try await shop.send(
                .POST, "/api/v1/admin/sales", headers: shop.admin,
                json: saleJSON(["quantity": quantity, "reservation_ttl_seconds": ttl, "admission_rate_per_second": 100_000]))
            #expect(created.status == 201, "\(created.text)")
            return try #require(created.json["id"] as? String)
        }

        /// Joins, waits to be admitted, reserves one unit; throws when refused.
        func reserve(_ sale: String, shopper: Int) async throws -> String {
            var pass = ""
            for _ in 0..<100 {
                let answer = try await shop.send(.POST, "/api/v1/sales/\(sale)/queue", headers: pass.isEmpty ? [] : [("X-Queue-Pass", pass)]).json
                pass = answer["pass"] as? String ?? ""
                let status = answer["status"] as? String
                if status == "admitted" { break }
                if status == "sold_out" || status == "ended" { throw ProcessError("\(status ?? "")") }
                try await Task.sleep(for: .milliseconds(answer["poll_after_ms"] as? Int ?? 500))
            }
            let reply = try await shop.send(
                .POST, "/api/v1/sales/\(sale)/reservations", headers: [("X-Queue-Pass", pass), ("Idempotency-Key", "r-\(shopper)")],
                json: #"{"email": "shopper\#(shopper)@example.com", "quantity": 1}"#)
            guard reply.status == 201, let id = reply.json["reservation_id"] as? String else { throw ProcessError(reply.text) }
            return id
        }

        /// One shopper pays; the provider charges and never answers; the shop is killed
        /// while it waits (after the charge, before any answer is stored). `expiresBy` is an
        /// instant by which the reservation has certainly expired.
        func killShopAfterTheCharge(ttl: Int) async throws -> (sale: String, charge: ProviderCharge, expiresBy: Date) {
            let sale = try await createSale(quantity: 2, ttl: ttl)
            let reservation = try await reserve(sale, shopper: 0)
            let expiresBy = Date().addingTimeInterval(Double(ttl))
            let shop = self.shop
            let paying = Task {
                try await shop.send(
                    .POST, "/api/v1/reservations/\(reservation)/payment", headers: [("Idempotency-Key", "k")],
                    json: CheckoutProcessTests.paymentJSON(shopper: 0))
            }
            let charge = try await eventually { try await ledger().charges.first }
            shop.kill9()
            paying.cancel()
            return (sale, charge, expiresBy)
        }

        func stats(_ sale: String) async throws -> [String: Any] {
            try await shop.send(.GET, "/api/v1/admin/sales/\(sale)/stats", headers: shop.admin).json
        }

        func ledger() async throws -> ProviderLedger {
            try JSONCoding.decoder().decode(ProviderLedger.self, from: try await provider.send(.GET, "/v1/ledger").body)
        }

        func restartShop() async throws {
            shop = try await ServerProcess.start(database: database, extraArguments: shopArguments)
        }
    }

    private func withShopAndProvider(
        database kind: String, providerFaults: [String], shopArguments: [String] = [], _ body: (Env) async throws -> Void
    ) async throws {
        let (sqlite, folder) = try temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = kind == "postgres" ? try ScratchPostgres.create() : sqlite
        defer { if kind == "postgres" { ScratchPostgres.drop(database) } }
        let provider = try await ServerProcess.startPSP(
            ledger: folder.appendingPathComponent("psp-ledger.jsonl").path, extraArguments: providerFaults)
        defer { provider.stop() }
        let arguments = ["--payments", provider.baseURL, "--payment-timeout-ms", "1000"] + shopArguments
        let env = Env(
            shop: try await ServerProcess.start(database: database, extraArguments: arguments), provider: provider,
            database: database, shopArguments: arguments)
        defer { env.shop.stop() }
        try await body(env)
    }

    /// A payment with a card and an address of this shopper's own (limits count both).
    static func paymentJSON(shopper: Int) -> String {
        #"{"card": {"number": "\#(cardNumber(shopper))", "exp_month": 12, "exp_year": 2031, "cvc": "123"}, "#
            + #""shipping": {"name": "Shopper \#(shopper)", "line1": "\#(shopper + 1) Main St", "city": "Springfield", "#
            + #""postal_code": "12345", "country": "US"}}"#
    }

    /// A Luhn-valid 16-digit number, distinct per shopper.
    static func cardNumber(_ shopper: Int) -> String {
        CardDetails.withCheckDigit("4" + String(format: "%014d", 100_000 + shopper))
    }
}
