import AsyncHTTPClient
import FlashSaleCore
import Foundation

/// Payments through a real provider process (issue 13 §4): a sale of `shoppers` units,
/// every shopper reserves one, then all pay at once, each exactly once (no retries: what
/// the shop does with a withheld answer is the figure). Measures how each call was
/// answered and how long until every order is paid, the withheld ones through the
/// reconciler.
public struct PaymentsBenchmark: Sendable {
    public var baseURL: String
    public var adminToken: String
    public var shoppers: Int
    public var concurrency: Int

    public init(baseURL: String, adminToken: String, shoppers: Int, concurrency: Int) {
        self.baseURL = baseURL
        self.adminToken = adminToken
        self.shoppers = shoppers
        self.concurrency = concurrency
    }

    public struct Result: Sendable {
        public var shoppers: Int
        /// HTTP status of each shopper's one payment call → count.
        public var answers: [Int: Int]
        /// Orders paid when the last payment call had been answered.
        public var paidWhenAnswered: Int
        /// Seconds from the first payment call until the last answer.
        public var secondsToAnswerAll: Double
        /// Seconds from the first payment call until every order was paid; nil if some
        /// never were within `deadline`.
        public var secondsToPayAll: Double?
        /// Orders paid within 15 s of the first call (the issue's bar).
        public var paidWithin15Seconds: Int
        /// Orders paid in the end, and attempts the shop marked failed (no charge).
        public var paid: Int
        public var failed: Int

        public var paymentsPerSecond: Double? { secondsToPayAll.map { Double(paid) / $0 } }
    }

    /// How long to wait for the reconciler to finish the withheld ones.
    public static let deadline: Double = 120

    public func run() async throws -> Result {
        try await withBenchClient(connections: concurrency) { client in try await run(client) }
    }

    private func run(_ client: HTTPClient) async throws -> Result {
        let admin = [("Authorization", "Bearer \(adminToken)")]
        let now = Date()
        let sale: [String: Any] = [
            "sku": "PAY-\(UUID().uuidString.prefix(8))", "name": "Payments benchmark", "price_cents": 1_000, "quantity": shoppers,
            "starts_at": Timestamp.format(now.addingTimeInterval(-1)), "ends_at": Timestamp.format(now.addingTimeInterval(3_600)),
            "per_customer_limit": 1, "reservation_ttl_seconds": 3_600, "admission_rate_per_second": 1_000_000,
        ]
        let body = String(decoding: try JSONSerialization.data(withJSONObject: sale), as: UTF8.self)
        let created = try await BenchHTTP.send(client, baseURL, "POST", "/api/v1/admin/sales", body: body, headers: admin)
        guard created.status == 201, let saleID = created.json?["id"] as? String else {
            throw BenchmarkError("could not create the sale: \(created.status) \(created.text)")
        }

        // Every shopper holds one unit before the clock starts.
        let reservations = Locked<[Int: String]>([:])
        try await forEachIndex(shoppers, workers: concurrency) { shopper in
            // Join, then poll as told: nobody is admitted beyond the units not yet claimed.
            var answer = try await BenchHTTP.send(client, baseURL, "POST", "/api/v1/sales/\(saleID)/queue", body: nil, headers: [])
            while answer.json?["status"] as? String == "waiting", let pass = answer.json?["pass"] as? String {
                try await Task.sleep(for: .milliseconds(answer.json?["poll_after_ms"] as? Int ?? 500))
                answer = try await BenchHTTP.send(
                    client, baseURL, "GET", "/api/v1/sales/\(saleID)/queue", body: nil, headers: [("X-Queue-Pass", pass)])
            }
            guard let pass = answer.json?["pass"] as? String, answer.json?["status"] as? String == "admitted" else {
                throw BenchmarkError("shopper \(shopper) was not admitted: \(answer.text)")
            }
            let reserved = try await BenchHTTP.send(
                client, baseURL, "POST", "/api/v1/sales/\(saleID)/reservations",
                body: #"{"email": "payer\#(shopper)@example.com", "quantity": 1}"#,
                headers: [("X-Queue-Pass", pass), ("Idempotency-Key", "r\(shopper)")])
            guard let id = reserved.json?["reservation_id"] as? String else {
                throw BenchmarkError("shopper \(shopper) could not reserve: \(reserved.text)")
            }
            reservations.withLock { $0[shopper] = id }
        }

        let answers = Locked<[Int: Int]>([:])
        let start = ContinuousClock.now
        try await forEachIndex(shoppers, workers: concurrency) { shopper in
            let reservation = reservations.withLock { $0[shopper]! }
            let card = CardDetails.withCheckDigit("4" + String(format: "%014d", 300_000 + shopper))
            let payment = #"{"card": {"number": "\#(card)", "exp_month": 12, "exp_year": 2099, "cvc": "123"}, "#
                + #""shipping": {"name": "Payer \#(shopper)", "line1": "\#(shopper + 1) Bench Road", "city": "Springfield", "#
                + #""postal_code": "12345", "country": "US"}}"#
            let reply = try await BenchHTTP.send(
                client, baseURL, "POST", "/api/v1/reservations/\(reservation)/payment", body: payment,
                headers: [("Idempotency-Key", "p\(shopper)")])
            answers.withLock { $0[reply.status, default: 0] += 1 }
        }
        let answered = (ContinuousClock.now - start).seconds

        var paidWhenAnswered: Int?
        var paidWithin15 = 0
        var payments: [String: Int] = [:]
        var secondsToPayAll: Double?
        while true {
            let stats = try await BenchHTTP.send(client, baseURL, "GET", "/api/v1/admin/sales/\(saleID)/stats", body: nil, headers: admin)
            let elapsed = (ContinuousClock.now - start).seconds
            payments = stats.json?["payments"] as? [String: Int] ?? [:]
            let paid = stats.json?["orders"] as? Int ?? 0
            payments["paid"] = paid
            if paidWhenAnswered == nil { paidWhenAnswered = paid }
            if elapsed <= 15 { paidWithin15 = paid }
            let open = payments["unknown", default: 0]
            if paid == shoppers {
                secondsToPayAll = elapsed
                break
            }
            if open == 0 || elapsed > Self.deadline { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return Result(
            shoppers: shoppers, answers: answers.withLock { $0 }, paidWhenAnswered: paidWhenAnswered ?? 0,
            secondsToAnswerAll: answered, secondsToPayAll: secondsToPayAll, paidWithin15Seconds: paidWithin15,
            paid: payments["paid", default: 0], failed: payments["failed", default: 0])
    }
}
