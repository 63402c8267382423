import FlashSaleCore
import Foundation

/// The public sale object of API.md, plus the early-bird lottery: its commitment before
/// the start, its seed after.
struct PublicSaleView: Encodable {
    let sale: Sale
    let now: Date
    let lottery: Lottery

    enum CodingKeys: String, CodingKey {
        case id, sku, name, priceCents = "price_cents", currency, quantity, available, startsAt = "starts_at"
        case endsAt = "ends_at", perCustomerLimit = "per_customer_limit", status
        case lotteryCommitment = "lottery_commitment", lotterySeed = "lottery_seed"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sale.id.lowercased, forKey: .id)
        try c.encode(sale.sku, forKey: .sku)
        try c.encode(sale.name, forKey: .name)
        try c.encode(sale.priceCents, forKey: .priceCents)
        try c.encode(sale.currency, forKey: .currency)
        try c.encode(sale.quantity, forKey: .quantity)
        try c.encode(sale.inventory.available, forKey: .available)
        try c.encode(sale.startsAt, forKey: .startsAt)
        try c.encode(sale.endsAt, forKey: .endsAt)
        try c.encode(sale.perCustomerLimit, forKey: .perCustomerLimit)
        try c.encode(sale.status(at: now).rawValue, forKey: .status)
        try c.encode(lottery.commitment, forKey: .lotteryCommitment)
        if now >= sale.startsAt { try c.encode(lottery.seedHex, forKey: .lotterySeed) }
    }
}

/// The operator's sale object: the public one plus the settings and every count.
struct AdminSaleView: Encodable {
    let sale: Sale
    let now: Date
    let lottery: Lottery

    enum CodingKeys: String, CodingKey {
        case reserved, sold, paused, reservationTTLSeconds = "reservation_ttl_seconds"
        case admissionRatePerSecond = "admission_rate_per_second", createdAt = "created_at"
    }

    func encode(to encoder: any Encoder) throws {
        try PublicSaleView(sale: sale, now: now, lottery: lottery).encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sale.inventory.reserved, forKey: .reserved)
        try c.encode(sale.inventory.sold, forKey: .sold)
        try c.encode(sale.paused, forKey: .paused)
        try c.encode(sale.reservationTTLSeconds, forKey: .reservationTTLSeconds)
        try c.encode(sale.admissionRatePerSecond, forKey: .admissionRatePerSecond)
        try c.encode(sale.createdAt, forKey: .createdAt)
    }
}

/// `GET /api/v1/admin/sales/{id}/stats`.
struct SaleStatsView: Encodable {
    struct Payments: Encodable, Sendable {
        let succeeded: Int
        let declined: Int
        let unknown: Int
        let refunded: Int
        /// Attempts the provider confirmed were not charged (or that never reached it).
        let failed: Int
    }

    let saleID: String
    let quantity: Int
    let available: Int
    let reserved: Int
    let sold: Int
    let orders: Int
    let queue: QueueFiguresView
    let payments: Payments

    enum CodingKeys: String, CodingKey {
        case saleID = "sale_id", quantity, available, reserved, sold, orders, queue, payments
    }

    /// A sale's counts (from `sale`, as fresh as the caller read it), its payments and this
    /// node's line.
    init(sale: Sale, payments counts: PaymentCounts, queue figures: QueueFigures) {
        saleID = sale.id.lowercased
        quantity = sale.quantity
        available = sale.inventory.available
        reserved = sale.inventory.reserved
        sold = sale.inventory.sold
        orders = counts.orders
        queue = QueueFiguresView(figures: figures)
        payments = Payments(
            succeeded: counts.succeeded, declined: counts.declined, unknown: counts.unknown, refunded: counts.refunded,
            failed: counts.failed)
    }
}

/// This node's line for one sale, in `/stats` and the `stats` events: API.md's `joined`,
/// `waiting`, `admitted`, `admission_rate_per_second` (as this node applies it) and
/// `threshold_lag_seconds`, plus the threshold, the rate achieved and a new shopper's wait.
struct QueueFiguresView: Encodable, Sendable {
    let figures: QueueFigures

    enum CodingKeys: String, CodingKey {
        case joined, waiting, admitted, threshold
        case admissionRatePerSecond = "admission_rate_per_second"
        case nodeRatePerSecond = "node_admission_rate_per_second"
        case achievedRatePerSecond = "achieved_admission_rate_per_second"
        case thresholdLagSeconds = "threshold_lag_seconds"
        case newShopperWaitSeconds = "new_shopper_wait_seconds"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(figures.joined, forKey: .joined)
        try c.encode(figures.waiting, forKey: .waiting)
        try c.encode(figures.admitted, forKey: .admitted)
        try c.encodeIfPresent(figures.threshold, forKey: .threshold)
        try c.encode(figures.admissionRatePerSecond, forKey: .admissionRatePerSecond)
        try c.encode((figures.nodeRatePerSecond * 100).rounded() / 100, forKey: .nodeRatePerSecond)
        try c.encode((figures.achievedRatePerSecond * 10).rounded() / 10, forKey: .achievedRatePerSecond)
        try c.encode((figures.thresholdLagSeconds * 10).rounded() / 10, forKey: .thresholdLagSeconds)
        try c.encode(figures.newShopperWaitSeconds, forKey: .newShopperWaitSeconds)
    }
}
