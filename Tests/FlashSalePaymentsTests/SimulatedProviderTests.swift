import FlashSaleCore
import Foundation
import Testing

@testable import FlashSalePayments

@Suite struct SimulatedProviderTests {
    @Test func aSuccessfulChargeIsOnTheLedger() async throws {
        let provider = try SimulatedProvider()
        let outcome = try await provider.charge(chargeRequest(), idempotencyKey: "k1")
        guard case .succeeded(let id) = outcome else { Issue.record("expected success, got \(outcome)"); return }
        #expect(id.hasPrefix("ch_"))
        let charge = try #require(await provider.charge(idempotencyKey: "k1"))
        #expect(charge.id == id && charge.amountCents == 12_900 && charge.currency == "USD" && charge.cardLast4 == "4242")
        #expect(charge.reference == "order-1" && !charge.refunded)
        #expect(await provider.ledger() == ProviderLedger(charges: [charge], refunds: []))
    }

    @Test func theSameKeyAndBodyReplaysASuccess() async throws {
        let provider = try SimulatedProvider()
        let first = try await provider.charge(chargeRequest(), idempotencyKey: "k1")
        let again = try await provider.charge(chargeRequest(), idempotencyKey: "k1")
        #expect(first == again)
        #expect(await provider.ledger().charges.count == 1, "charged once")
    }

    @Test func declinesAreReplayedButAreNotCharges() async throws {
        let provider = try SimulatedProvider()
        for (number, reason) in [(CardRules.declined, "card_declined"), (CardRules.insufficientFunds, "insufficient_funds")] {
            for _ in 0..<2 {
                let outcome = try await provider.charge(chargeRequest(number), idempotencyKey: "key-\(number)")
                #expect(outcome == .declined(reason: reason))
            }
            #expect(await provider.charge(idempotencyKey: "key-\(number)") == nil)
        }
        #expect(await provider.ledger() == ProviderLedger(charges: [], refunds: []))
    }

    @Test func theSameKeyWithAnotherBodyIsRefused() async throws {
        let provider = try SimulatedProvider()
        _ = try await provider.charge(chargeRequest(), idempotencyKey: "k1")
        await #expect(throws: PaymentProviderError.self) {
            try await provider.charge(chargeRequest(amountCents: 1), idempotencyKey: "k1")
        }
        do {
            _ = try await provider.charge(chargeRequest(CardRules.declined), idempotencyKey: "k1")
            Issue.record("a reused key must be refused")
        } catch PaymentProviderError.rejected(let status, let message) {
            #expect(status == 422 && message.hasPrefix("idempotency_key_reused"))
        }
        #expect(await provider.ledger().charges.count == 1)
    }

    @Test func badRequestsAreRejectedAndChargeNothing() async throws {
        let provider = try SimulatedProvider()
        var wrongCurrency = chargeRequest()
        wrongCurrency.currency = "usd"
        let bad: [(ChargeRequest, String, Int)] = [
            (chargeRequest(), "", 400), (chargeRequest(amountCents: 0), "a", 422), (wrongCurrency, "b", 422),
            (chargeRequest(reference: ""), "c", 422),
        ]
        for (request, key, status) in bad {
            do {
                _ = try await provider.charge(request, idempotencyKey: key)
                Issue.record("\(request) with key \(key) was accepted")
            } catch PaymentProviderError.rejected(let refused, _) {
                #expect(refused == status, "\(request)")
            }
        }
        #expect(await provider.ledger().charges.isEmpty)
    }

    @Test func aRefundIsIdempotentAndHappensOnce() async throws {
        let provider = try SimulatedProvider()
        guard case .succeeded(let id) = try await provider.charge(chargeRequest(), idempotencyKey: "c1") else {
            Issue.record("charge failed")
            return
        }
        let refund = try await provider.refund(chargeID: id, idempotencyKey: "r1")
        #expect(refund.chargeID == id && refund.amountCents == 12_900 && refund.id.hasPrefix("re_"))
        #expect(try await provider.refund(chargeID: id, idempotencyKey: "r1") == refund, "replayed")
        #expect(await provider.charge(idempotencyKey: "c1")?.refunded == true)

        await #expect(throws: PaymentProviderError.rejected(status: 409, message: "already_refunded: " + APIError.alreadyRefunded.message)) {
            try await provider.refund(chargeID: id, idempotencyKey: "r2")
        }
        await #expect(throws: PaymentProviderError.rejected(status: 404, message: "charge_not_found: " + APIError.chargeNotFound.message)) {
            try await provider.refund(chargeID: "ch_nope", idempotencyKey: "r3")
        }
        let ledger = await provider.ledger()
        #expect(ledger.refunds == [refund] && ledger.charges.map(\.refunded) == [true])
    }

    @Test func aRefundKeyCannotBeReusedForAnotherCharge() async throws {
        let provider = try SimulatedProvider()
        _ = try await provider.charge(chargeRequest(reference: "a"), idempotencyKey: "c1")
        _ = try await provider.charge(chargeRequest(reference: "b"), idempotencyKey: "c2")
        let charges = await provider.ledger().charges
        _ = try await provider.refund(chargeID: charges[0].id, idempotencyKey: "r1")
        await #expect(throws: PaymentProviderError.self) { try await provider.refund(chargeID: charges[1].id, idempotencyKey: "r1") }
        #expect(await provider.ledger().refunds.count == 1)
    }

    @Test func concurrentAttemptsWithOneKeyChargeOnce() async throws {
        let provider = try SimulatedProvider(faults: Faults(latencyMs: 5))
        let outcomes = try await withThrowingTaskGroup(of: ChargeOutcome.self) { group in
            for _ in 0..<20 { group.addTask { try await provider.charge(chargeRequest(), idempotencyKey: "same") } }
            return try await group.reduce(into: [ChargeOutcome]()) { $0.append($1) }
        }
        #expect(Set(outcomes.map { "\($0)" }).count == 1)
        #expect(await provider.ledger().charges.count == 1)
    }
}
