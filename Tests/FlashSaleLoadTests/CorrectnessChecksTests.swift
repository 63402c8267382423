import Foundation
import Testing

@testable import FlashSaleLoad

struct CorrectnessChecksTests {
    func verdicts(_ stats: ShopWire.Stats?, paidSeen: Int = 0, ledger: LedgerSummary? = nil) -> [String: Bool?] {
        let checks = CorrectnessChecks.evaluate(quantity: 10, stats: stats, paidSeen: paidSeen, settled: true, ledger: ledger)
        return Dictionary(uniqueKeysWithValues: checks.map { ($0.name, $0.passed) })
    }

    @Test func aCleanSellOutPasses() {
        let v = verdicts(ShopWire.Stats(quantity: 10, available: 0, reserved: 0, sold: 10), paidSeen: 10)
        #expect(v["oversell"] == true && v["undersell"] == true)
        #expect(v["double_charge"] == .some(nil))
    }

    @Test func oversellIsCaughtThreeWays() {
        #expect(verdicts(ShopWire.Stats(quantity: 10, available: 0, reserved: 0, sold: 11))["oversell"] == false)
        #expect(verdicts(ShopWire.Stats(quantity: 10, available: 0, reserved: 0, sold: 10), paidSeen: 11)["oversell"] == false)
        #expect(verdicts(ShopWire.Stats(quantity: 10, available: 3, reserved: 0, sold: 8))["oversell"] == false)
        #expect(verdicts(ShopWire.Stats(quantity: 10, available: -1, reserved: 1, sold: 10))["oversell"] == false)
    }

    @Test func unitsStillHeldAfterTheWaitAreAnUndersell() {
        #expect(verdicts(ShopWire.Stats(quantity: 10, available: 2, reserved: 0, sold: 8))["undersell"] == true)
        #expect(verdicts(ShopWire.Stats(quantity: 10, available: 0, reserved: 2, sold: 8))["undersell"] == false)
    }

    @Test func unreadableStatsSkipRatherThanPass() {
        let v = verdicts(nil)
        #expect(v["oversell"] == .some(nil) && v["undersell"] == .some(nil))
    }

    @Test func theLedgerMustMatchTheUnitsSold() {
        let sold = ShopWire.Stats(quantity: 10, available: 0, reserved: 0, sold: 10)
        let good = LedgerSummary(succeededCharges: 12, refundedCharges: 2, badRefunds: 0, duplicateReferences: 0)
        #expect(verdicts(sold, paidSeen: 10, ledger: good)["double_charge"] == true)
        let extra = LedgerSummary(succeededCharges: 11, refundedCharges: 0, badRefunds: 0, duplicateReferences: 1)
        #expect(verdicts(sold, paidSeen: 10, ledger: extra)["double_charge"] == false)
        let lost = LedgerSummary(succeededCharges: 9, refundedCharges: 0, badRefunds: 0, duplicateReferences: 0)
        #expect(verdicts(sold, paidSeen: 10, ledger: lost)["double_charge"] == false)
    }

    @Test func ledgerShapesAreSummarisedAlike() throws {
        let split = """
            {"charges": [{"id": "c1", "status": "succeeded", "reference": "a1"},
                         {"id": "c2", "status": "succeeded", "reference": "a1"},
                         {"id": "c3", "status": "succeeded", "reference": "a2"},
                         {"id": "c4", "status": "declined", "reference": "a3"}],
             "refunds": [{"id": "r1", "charge_id": "c2"}]}
            """
        let entries = """
            [{"type": "charge", "id": "c1", "status": "succeeded", "reference": "a1"},
             {"type": "charge", "id": "c2", "status": "succeeded", "reference": "a1"},
             {"type": "charge", "id": "c3", "status": "succeeded", "reference": "a2"},
             {"type": "charge", "id": "c4", "status": "declined", "reference": "a3"},
             {"type": "refund", "id": "r1", "charge_id": "c2"}]
            """
        let expected = LedgerSummary(succeededCharges: 3, refundedCharges: 1, badRefunds: 0, duplicateReferences: 0)
        #expect(try Ledger.summarize(json: Data(split.utf8)) == expected)
        #expect(try Ledger.summarize(json: Data(entries.utf8)) == expected)
        #expect(expected.keptCharges == 2)

        let doubled = #"{"charges": [{"id": "c1", "reference": "a"}, {"id": "c2", "reference": "a"}], "refunds": [{"charge_id": "zz"}]}"#
        #expect(try Ledger.summarize(json: Data(doubled.utf8)) == LedgerSummary(
            succeededCharges: 2, refundedCharges: 0, badRefunds: 1, duplicateReferences: 1))
        #expect(throws: Ledger.FormatError.self) { try Ledger.summarize(json: Data(#"{"x": 1}"#.utf8)) }
    }
}
