import Foundation
import Testing

@testable import FlashSalePayments

@Suite struct LedgerDurabilityTests {
    @Test func aReopenedProviderKnowsEverythingTheLastOneAnswered() async throws {
        try await withTemporaryLedger { path in
            let first = try SimulatedProvider(ledgerPath: path)
            let charged = try await first.charge(chargeRequest(), idempotencyKey: "c1")
            _ = try await first.charge(chargeRequest(reference: "order-2"), idempotencyKey: "c2")
            let declined = try await first.charge(chargeRequest(CardRules.declined), idempotencyKey: "d1")
            let chargeID = try #require(await first.charge(idempotencyKey: "c1")?.id)
            let refund = try await first.refund(chargeID: chargeID, idempotencyKey: "r1")
            let before = await first.ledger()

            let second = try SimulatedProvider(ledgerPath: path)
            #expect(await second.ledger() == before)
            #expect(try await second.charge(chargeRequest(), idempotencyKey: "c1") == charged, "replayed, not charged again")
            #expect(try await second.charge(chargeRequest(CardRules.declined), idempotencyKey: "d1") == declined)
            #expect(try await second.refund(chargeID: chargeID, idempotencyKey: "r1") == refund)
            await #expect(throws: PaymentProviderError.self) {
                try await second.charge(chargeRequest(amountCents: 5), idempotencyKey: "c1")
            }
            await #expect(throws: PaymentProviderError.self) { try await second.refund(chargeID: chargeID, idempotencyKey: "r2") }
            #expect(await second.ledger() == before)
        }
    }

    @Test func theFileIsOneJSONRecordALine() async throws {
        try await withTemporaryLedger { path in
            let provider = try SimulatedProvider(ledgerPath: path)
            _ = try await provider.charge(chargeRequest(), idempotencyKey: "c1")
            _ = try await provider.charge(chargeRequest(CardRules.insufficientFunds), idempotencyKey: "d1")
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 2)
            let objects = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
            #expect((objects[0]["charge"] as? [String: Any])?["idempotency_key"] as? String == "c1")
            #expect((objects[1]["decline"] as? [String: Any])?["reason"] as? String == "insufficient_funds")
            #expect(!lines.joined().contains(CardRules.succeeds), "the card number is never written")
        }
    }

    @Test(arguments: ["{\"charge\":{\"id\":\"ch_", "\u{0}\u{0}\u{0}", "{}\n"])
    func aTornLastLineIsCutOff(_ torn: String) async throws {
        try await withTemporaryLedger { path in
            let first = try SimulatedProvider(ledgerPath: path)
            _ = try await first.charge(chargeRequest(), idempotencyKey: "c1")
            let before = await first.ledger()
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(torn.utf8))
            try handle.close()

            let second = try SimulatedProvider(ledgerPath: path)
            #expect(await second.ledger() == before)
            _ = try await second.charge(chargeRequest(reference: "order-2"), idempotencyKey: "c2")
            let third = try SimulatedProvider(ledgerPath: path)
            #expect(await third.ledger().charges.map(\.idempotencyKey) == ["c1", "c2"], "appends after the cut start a clean line")
        }
    }

    @Test func aDamagedLineBeforeTheLastIsAnError() async throws {
        try await withTemporaryLedger { path in
            let provider = try SimulatedProvider(ledgerPath: path)
            _ = try await provider.charge(chargeRequest(), idempotencyKey: "c1")
            let good = try String(contentsOfFile: path, encoding: .utf8)
            try ("garbage\n" + good).write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: LedgerFile.Corrupt.self) { try SimulatedProvider(ledgerPath: path) }
        }
    }

    @Test func aLastRecordWithoutItsNewlineIsKept() async throws {
        try await withTemporaryLedger { path in
            let provider = try SimulatedProvider(ledgerPath: path)
            _ = try await provider.charge(chargeRequest(), idempotencyKey: "c1")
            var text = try String(contentsOfFile: path, encoding: .utf8)
            text.removeLast()
            try text.write(toFile: path, atomically: true, encoding: .utf8)

            let reopened = try SimulatedProvider(ledgerPath: path)
            _ = try await reopened.charge(chargeRequest(reference: "order-2"), idempotencyKey: "c2")
            #expect(try await SimulatedProvider(ledgerPath: path).ledger().charges.count == 2)
        }
    }

    @Test func withoutAPathNothingIsWritten() async throws {
        let provider = try SimulatedProvider()
        _ = try await provider.charge(chargeRequest(), idempotencyKey: "c1")
        #expect(try await SimulatedProvider().ledger().charges.isEmpty)
    }
}
