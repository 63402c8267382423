import FlashSaleCore
import FlashSaleStore
import Foundation

/// The dashboard's Mustache context: the same `StatsEvent` the event stream sends (so the
/// first paint and the live updates agree), plus what only the page shows: every sale,
/// the blocklist, the flagged orders, the forms and their errors.
struct ConsoleView {
    let event: StatsEvent
    let sales: [Sale]
    let history: [String: [EventsHub.ChartPoint]]
    let rules: [AccessRule]
    let flagged: [PaymentRecord]
    /// The latest operator actions, newest first.
    let audit: [AuditEntry]
    /// The forms' anti-forgery token; nil for a bearer-token request (no forms then).
    let csrf: String?
    let problem: ConsoleController.Problem?
    let lottery: (UUID) -> Lottery
    let now: Date

    var context: [String: Any] {
        let shown = Set(event.sales.map(\.counts.saleID))
        let currencies = Dictionary(sales.map { ($0.id, $0.currency) }, uniquingKeysWith: { first, _ in first })
        var context: [String: Any] = [
            "title": "Operator dashboard",
            "at": Timestamp.format(event.at),
            "sales": event.sales.map(card),
            "past": sales.filter { !shown.contains($0.id.lowercased) }.prefix(50).map { sale in
                [
                    "id": sale.id.lowercased, "name": sale.name, "sku": sale.sku, "status": sale.status(at: now).rawValue,
                    "sold": sale.inventory.sold, "quantity": sale.quantity, "ends": Timestamp.format(sale.endsAt),
                ] as [String: Any]
            },
            "blocked": Self.counts(event.blocked),
            "rules": rules.map { ["cidr": $0.cidr.description, "reason": $0.reason, "since": Timestamp.format($0.createdAt)] },
            "flagged": flagged.map { payment in
                [
                    "id": payment.id.lowercased, "sale": payment.saleID.lowercased, "email": payment.email,
                    "status": payment.orderStatus, "amount": Format.price(payment.amountCents, currencies[payment.saleID] ?? ""),
                    "flags": payment.flags.joined(separator: ", "),
                    "cancellable": payment.orderStatus == "paid",
                ] as [String: Any]
            },
            "audit": audit.map { entry in
                [
                    "at": Timestamp.format(entry.at), "action": entry.action.rawValue, "subject": entry.subject,
                    "actor": entry.actor.rawValue, "change": Self.change(before: entry.before, after: entry.after),
                ] as [String: Any]
            },
            "hasAudit": !audit.isEmpty,
            "historyJSON": historyJSON,
            "newSale": newSaleForm,
        ]
        context["hasFlagged"] = !flagged.isEmpty
        context["hasRules"] = !rules.isEmpty
        context["hasPast"] = !(context["past"] as? [Any] ?? []).isEmpty
        if let csrf { context["csrf"] = csrf }
        // A problem with a sale not on the page (an unknown id) is shown at the top.
        if let problem, problem.newSale == nil, problem.saleID.map({ !shown.contains($0.lowercased) }) ?? true {
            context["problem"] = ["message": problem.message, "section": problem.section ?? ""]
        }
        return context
    }

    private func card(_ sale: SaleStats) -> [String: Any] {
        let stats = sale.counts
        let figures = stats.queue.figures
        var card: [String: Any] = [
            "id": stats.saleID, "name": sale.name, "sku": sale.sku, "status": sale.status,
            "starts": Timestamp.format(sale.startsAt), "ends": Timestamp.format(sale.endsAt),
            "quantity": stats.quantity, "available": stats.available, "reserved": stats.reserved, "sold": stats.sold,
            "orders": stats.orders, "joined": figures.joined, "waiting": figures.waiting, "admitted": figures.admitted,
            "rate": figures.admissionRatePerSecond, "achieved": String(format: "%.1f", figures.achievedRatePerSecond),
            "lag": String(format: "%.1f", figures.thresholdLagSeconds), "wait": figures.newShopperWaitSeconds,
            "succeeded": stats.payments.succeeded, "declined": stats.payments.declined, "unknown": stats.payments.unknown,
            "refunded": stats.payments.refunded, "failed": stats.payments.failed,
            "blocked": Self.counts(sale.blocked), "paused": sale.paused,
            "open": sale.status != SaleStatus.ended.rawValue,
        ]
        if let id = UUID(uuidString: stats.saleID) {
            let draw = lottery(id)
            card["commitment"] = draw.commitment
            if now >= sale.startsAt { card["seed"] = draw.seedHex }
            if let problem, problem.saleID == id { card["saleProblem"] = problem.message }
        }
        return card
    }

    /// What an action changed, field by field: `paused: false → true`.
    static func change(before: JSONObject?, after: JSONObject?) -> String {
        guard let before, let after else { return "" }
        return after.keys.sorted().compactMap { key in
            let old = before[key] ?? .null
            let new = after[key] ?? .null
            return old == new ? nil : "\(key): \(text(old)) → \(text(new))"
        }.joined(separator: "; ")
    }

    private static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): value
        case .array(let values): "[" + values.map(text).joined(separator: ", ") + "]"
        case .object: "{…}"
        }
    }

    private static func counts(_ counts: [String: Int]) -> [[String: Any]] {
        counts.sorted { $0.key < $1.key }.map { ["reason": $0.key, "count": $0.value] }
    }

    /// The new-sale form: what was sent, with the error beside its field, or defaults.
    private var newSaleForm: [String: Any] {
        let start = now.addingTimeInterval(300)
        var values: [String: String] = [
            "sku": "", "name": "", "price_cents": "", "currency": "USD", "quantity": "", "per_customer_limit": "1",
            "reservation_ttl_seconds": "600", "admission_rate_per_second": "50",
            "starts_at": Self.localTime(start), "ends_at": Self.localTime(start.addingTimeInterval(3600)),
        ]
        var form: [String: Any] = [:]
        if let problem, let sent = problem.newSale {
            values.merge(sent.filter { values[$0.key] != nil }) { $1 }
            form["error"] = problem.message
            if let field = problem.field { form["error_\(field)"] = problem.message }
        }
        for (name, value) in values { form[name] = value }
        return form
    }

    /// A `datetime-local` value in UTC.
    static func localTime(_ date: Date) -> String { String(Timestamp.format(date).prefix(16)) }

    /// The charts' history as JSON for a `<script type="application/json">`: `</` is
    /// escaped so that no value can close the element.
    private var historyJSON: String {
        let data = (try? JSONCoding.encoder().encode(history)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
    }
}
