import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird
import Logging

/// Writes the operator's actions to the store's audit record, with the API views of the
/// thing before and after.
///
/// An entry is appended right after the change it records has committed, in a transaction
/// of its own: a crash between the two loses the entry (the change stands), and a failed
/// append does not undo the change or fail the request. Either way the log keeps the
/// entry: a failed append is logged as an error carrying the whole entry.
struct AuditLog: Sendable {
    let store: any AuditStore

    func record(
        _ action: AuditEntry.Action, subject: String, saleID: UUID? = nil, actor: AuditEntry.Actor, before: (any Encodable)? = nil,
        after: (any Encodable)? = nil, logger: Logger
    ) async {
        var entry = AuditEntry(at: Date(), action: action, subject: subject, saleID: saleID, actor: actor)
        do {
            entry.before = try before.map { try JSONCoding.object($0) }
            entry.after = try after.map { try JSONCoding.object($0) }
            // A change that changed nothing (pausing a paused sale) is not one.
            if entry.before != nil, entry.before == entry.after { return }
            _ = try await store.appendAudit(entry)
        } catch {
            logger.error(
                "audit entry not recorded",
                metadata: [
                    "error": "\(String(reflecting: error))", "action": "\(action.rawValue)", "subject": "\(subject)",
                    "actor": "\(actor.rawValue)", "before": "\(Self.text(entry.before))", "after": "\(Self.text(entry.after))",
                ])
        }
    }

    private static func text(_ object: JSONObject?) -> String {
        object.flatMap { try? JSONCoding.text($0) } ?? "null"
    }
}

extension OperatorRequestContext {
    /// The operator behind an admin route, as `AdminAuthMiddleware` authenticated them.
    var actor: AuditEntry.Actor { operatorActor ?? AuditEntry.Actor(rawValue: "unknown") }
}
