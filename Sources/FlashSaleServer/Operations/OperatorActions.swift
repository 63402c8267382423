import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird
import Logging

/// Everything an operator can change, in one place whichever door it came through: the
/// JSON admin API and the dashboard's forms both call these, so that a sale created, a
/// rate changed or a network blocked behaves (and is logged) the same either way. Every
/// change is recorded in the audit (`AuditLog`) with the operator's `actor` and the API
/// views before and after; a refusal, or a cancel that changed nothing, is not.
struct OperatorActions: Sendable {
    let store: any Store
    let catalog: SaleCatalog
    let waitingRoom: WaitingRoom
    let lists: AccessLists
    let engine: InventoryEngine
    var audit: AuditLog { AuditLog(store: store) }

    /// Validates and creates a sale; every node's catalog sees it within a refresh, this
    /// one at once. Throws 422 (`validation`) or 409 (`duplicate_sku`).
    func createSale(_ new: NewSale, by actor: AuditEntry.Actor, logger: Logger) async throws -> Sale {
        try new.validate()
        let now = Date()
        let sale = try await store.createSale(new, id: UUID(), now: now)
        catalog.install(sale, now: now)
        logger.info("sale created", metadata: ["sale": "\(sale.id.lowercased)", "sku": "\(sale.sku)"])
        await audit.record(
            .saleCreated, subject: sale.id.lowercased, saleID: sale.id, actor: actor, after: adminView(of: sale, now: now), logger: logger)
        return sale
    }

    /// Applies a patch (pause, resume, end, extend, a new rate); a new rate reaches every
    /// node at its next catalog refresh (250 ms). Throws 404, 422.
    func updateSale(id: UUID, patch: SalePatch, by actor: AuditEntry.Actor, logger: Logger) async throws -> Sale {
        guard !patch.isEmpty else { throw APIError.validation("send at least one of paused, starts_at, ends_at, admission_rate_per_second") }
        // Read for the audit; another operator's change in between would not be in it.
        guard let previous = try await store.sale(id: id) else { throw APIError.saleNotFound }
        let now = Date()
        guard let sale = try await store.updateSale(id: id, patch: patch, now: now) else { throw APIError.saleNotFound }
        catalog.install(sale, now: now)
        logger.info(
            "sale updated",
            metadata: [
                "sale": "\(id.lowercased)", "paused": "\(sale.paused)", "ends_at": "\(sale.endsAt)",
                "admission_rate_per_second": "\(sale.admissionRatePerSecond)",
            ])
        await audit.record(
            .saleUpdated, subject: id.lowercased, saleID: id, actor: actor, before: adminView(of: previous, now: now),
            after: adminView(of: sale, now: now), logger: logger)
        return sale
    }

    /// Puts a rule on a list; refuses (422) a block that would lock out `own`, the caller.
    func addRule(
        _ new: NewAccessRule, on list: AccessRule.List, own: [UInt8]?, by actor: AuditEntry.Actor, logger: Logger
    ) async throws -> AccessRule {
        let rule = try new.rule(on: list, now: Date())
        // One call must not lock the operator out (the blocklist applies to admin routes).
        if list == .block, let own, rule.cidr.contains(own) {
            throw APIError.validation(
                "\(rule.cidr) contains your own address \(IPAddress.format(own)); put your address on the allow list first")
        }
        // The rule this one replaces, if any, for the audit.
        let replaced = try await activeRule(on: list, cidr: rule.cidr)
        let stored = try await store.putAccessRule(rule)
        try await lists.refresh(force: true)
        logger.notice("access rule added", metadata: ["list": "\(list.rawValue)", "cidr": "\(stored.cidr)", "reason": "\(stored.reason)"])
        await audit.record(
            .accessRuleAdded, subject: stored.cidr.description, actor: actor, before: replaced.map(AccessRuleView.init),
            after: AccessRuleView(stored), logger: logger)
        return stored
    }

    /// Takes a network off a list. Throws 422 for a CIDR that does not parse, 404 when the
    /// list does not hold it.
    func removeRule(_ text: String, from list: AccessRule.List, by actor: AuditEntry.Actor, logger: Logger) async throws {
        guard let cidr = CIDR(text.removingPercentEncoding ?? text) else {
            throw APIError.validation("cidr must be an IPv4 or IPv6 network such as 203.0.113.0/24 (percent-encode the /)")
        }
        let removed = try await activeRule(on: list, cidr: cidr)
        guard try await store.removeAccessRule(list: list, cidr: cidr) else { throw APIError.accessRuleNotFound }
        try await lists.refresh(force: true)
        logger.notice("access rule removed", metadata: ["list": "\(list.rawValue)", "cidr": "\(cidr)"])
        // A rule that had expired is no longer listed: its list and network still say what went.
        let before: any Encodable =
            if let removed { AccessRuleView(removed) } else { ["list": list.rawValue, "cidr": cidr.description] as [String: String] }
        await audit.record(.accessRuleRemoved, subject: cidr.description, actor: actor, before: before, logger: logger)
    }

    /// Refunds an order through the outbox and returns its units at once. Idempotent: an
    /// order cancelled before is answered as it stands. Throws 404 for an unknown id or a
    /// declined attempt, 409 `order_not_cancellable` while its payment is unresolved.
    func cancelOrder(id: UUID, by actor: AuditEntry.Actor, logger: Logger) async throws -> PaymentRecord {
        switch try await store.cancelOrder(id: id, now: Date()) {
        case .cancelled(let saleID, let units, let payment):
            // As after DELETE /api/v1/reservations/{id}: waiting shoppers can be admitted for
            // these units now, not at the next catalog refresh.
            engine.unitsReturned(saleID: saleID, units: units)
            logger.notice(
                "order cancelled by the operator; refund queued",
                metadata: [
                    "order": "\(id.lowercased)", "sale": "\(saleID.lowercased)", "units": "\(units)",
                    "flags": "\(payment.flags.joined(separator: ","))",
                ])
            // Only a paid order is cancelled, so before the cancel it was this one, paid.
            var paid = payment
            paid.status = .paid
            await audit.record(
                .orderCancelled, subject: id.lowercased, saleID: saleID, actor: actor, before: AdminOrderView(payment: paid),
                after: AdminOrderView(payment: payment), logger: logger)
            return payment
        case .alreadyCancelled(let payment):
            return payment
        case .notCancellable(let payment):
            throw payment.status == .declined ? APIError.orderNotFound : APIError.orderNotCancellable
        case .notFound:
            throw APIError.orderNotFound
        }
    }

    /// The sale as the admin API shows it.
    func adminView(of sale: Sale, now: Date) -> AdminSaleView {
        AdminSaleView(sale: sale, now: now, lottery: waitingRoom.lottery(for: sale.id))
    }

    private func activeRule(on list: AccessRule.List, cidr: CIDR) async throws -> AccessRule? {
        try await store.accessRules(now: Date()).first { $0.list == list && $0.cidr == cidr }
    }
}
