import Foundation

/// Reads the payment provider's `GET /v1/ledger`. The contract names the endpoint but not
/// its shape, so this accepts the likely ones: `{"charges": [...], "refunds": [...]}`, or
/// one list (top level or under `entries`) whose items say `"type": "charge" | "refund"`.
/// A charge has `id`, `status` and `reference` (the shop's payment attempt); a refund
/// names its `charge_id`.
public enum Ledger {
    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func summarize(json data: Data) throws -> LedgerSummary {
        let root = try JSONSerialization.jsonObject(with: data)
        var charges: [[String: Any]] = []
        var refunds: [[String: Any]] = []
        if let object = root as? [String: Any], object["charges"] != nil || object["refunds"] != nil {
            charges = object["charges"] as? [[String: Any]] ?? []
            refunds = object["refunds"] as? [[String: Any]] ?? []
        } else if let entries = (root as? [[String: Any]]) ?? ((root as? [String: Any])?["entries"] as? [[String: Any]]) {
            for entry in entries {
                switch (entry["type"] ?? entry["kind"]) as? String {
                case "charge": charges.append(entry)
                case "refund": refunds.append(entry)
                default: break
                }
            }
        } else {
            throw FormatError(description: "the ledger has neither charges/refunds nor a list of entries")
        }
        return summarize(charges: charges, refunds: refunds)
    }

    static func summarize(charges: [[String: Any]], refunds: [[String: Any]]) -> LedgerSummary {
        let succeeded = charges.filter { ($0["status"] as? String ?? "succeeded") == "succeeded" }
        let ids = Set(succeeded.compactMap { $0["id"] as? String })
        var refundsPerCharge: [String: Int] = [:]
        var badRefunds = 0
        for refund in refunds {
            guard let charge = refund["charge_id"] as? String, ids.contains(charge) else {
                badRefunds += 1
                continue
            }
            refundsPerCharge[charge, default: 0] += 1
        }
        badRefunds += refundsPerCharge.values.filter { $0 > 1 }.count
        var keptPerReference: [String: Int] = [:]
        for charge in succeeded {
            guard let id = charge["id"] as? String, refundsPerCharge[id] == nil, let reference = charge["reference"] as? String
            else { continue }
            keptPerReference[reference, default: 0] += 1
        }
        return LedgerSummary(
            succeededCharges: succeeded.count, refundedCharges: refundsPerCharge.count, badRefunds: badRefunds,
            duplicateReferences: keptPerReference.values.reduce(0) { $0 + max($1 - 1, 0) })
    }
}
