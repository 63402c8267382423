import Foundation
import HummingbirdTesting
import Testing

@testable import FlashSalePayments

/// `HTTPPaymentProvider` against the simulator listening on a real socket.
@Suite struct HTTPPaymentProviderTests {
    func withLiveProvider(
        faults: Faults = .none, requestTimeout: Duration = .seconds(30),
        _ body: @Sendable (HTTPPaymentProvider, SimulatedProvider) async throws -> Void
    ) async throws {
        let simulator = try SimulatedProvider(faults: faults)
        // The default timeout is generous: on a loaded CI machine a plain charge once took
        // over 3 s. Tests of withheld answers pass a short one; the hold outlasts both, and
        // the server's shutdown ends it.
        let config = PSPConfig(port: 0, faults: faults, unansweredHold: .seconds(60))
        let app = try buildPSPApplication(config, provider: simulator)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let url = try #require(URL(string: "http://127.0.0.1:\(port)"))
            try await body(HTTPPaymentProvider(baseURL: url, requestTimeout: requestTimeout), simulator)
        }
    }

    @Test func chargesLooksUpRefundsAndListsOverHTTP() async throws {
        try await withLiveProvider { provider, simulator in
            let outcome = try await provider.charge(chargeRequest(), idempotencyKey: "k/1 +&")
            guard case .succeeded(let id) = outcome else { Issue.record("\(outcome)"); return }
            #expect(try await provider.charge(chargeRequest(), idempotencyKey: "k/1 +&") == outcome, "replayed")
            let charge = try #require(try await provider.charge(idempotencyKey: "k/1 +&"))
            #expect(charge == (await simulator.charge(idempotencyKey: "k/1 +&")))
            #expect(try await provider.charge(idempotencyKey: "unknown") == nil)

            let refund = try await provider.refund(chargeID: id, idempotencyKey: "r1")
            #expect(try await provider.refund(chargeID: id, idempotencyKey: "r1") == refund)
            #expect(try await provider.ledger() == (await simulator.ledger()))
        }
    }

    @Test func declinesCarryTheirReason() async throws {
        try await withLiveProvider { provider, _ in
            let declined = try await provider.charge(chargeRequest(CardRules.declined), idempotencyKey: "a")
            let poor = try await provider.charge(chargeRequest(CardRules.insufficientFunds), idempotencyKey: "b")
            #expect(declined == .declined(reason: "card_declined") && poor == .declined(reason: "insufficient_funds"))
        }
    }

    @Test func refusalsAreRejectedWithTheirStatus() async throws {
        try await withLiveProvider { provider, _ in
            _ = try await provider.charge(chargeRequest(), idempotencyKey: "k1")
            await #expect(throws: PaymentProviderError.self) { try await provider.charge(chargeRequest(amountCents: 1), idempotencyKey: "k1") }
            do {
                _ = try await provider.refund(chargeID: "ch_nope", idempotencyKey: "r1")
                Issue.record("an unknown charge cannot be refunded")
            } catch PaymentProviderError.rejected(let status, let message) {
                #expect(status == 404 && message.hasPrefix("charge_not_found"))
            }
        }
    }

    @Test func aWithheldAnswerIsAnUnknownOutcomeAndTheLookupFindsTheCharge() async throws {
        try await withLiveProvider(faults: Faults(timeoutRate: 1, seed: 5), requestTimeout: .seconds(2)) { provider, _ in
            do {
                _ = try await provider.charge(chargeRequest(), idempotencyKey: "k1")
                Issue.record("the answer should never have come")
            } catch PaymentProviderError.unknownOutcome(let reason) {
                #expect(reason.contains("timeout"), "\(reason)")
            }
            // The lookup shares the 2 s client timeout: on a busy machine ask again until the
            // provider answers (the claim is what it answers, not how fast).
            var found: ProviderCharge?
            for _ in 0..<30 where found == nil {
                do { found = try await provider.charge(idempotencyKey: "k1") } catch PaymentProviderError.unknownOutcome {}
            }
            let charge = try #require(found)
            #expect(charge.amountCents == 12_900)
            #expect(try await provider.ledger().charges == [charge])
        }
    }

    @Test func aFailureBeforeChargingIsAnUnknownOutcomeAndTheLookupFindsNothing() async throws {
        try await withLiveProvider(faults: Faults(failRate: 1, seed: 5)) { provider, _ in
            await #expect(throws: PaymentProviderError.self) { try await provider.charge(chargeRequest(), idempotencyKey: "k1") }
            do {
                _ = try await provider.charge(chargeRequest(), idempotencyKey: "k1")
                Issue.record("fail-rate 1 must fail every charge")
            } catch PaymentProviderError.unknownOutcome(let reason) {
                #expect(reason.contains("503"), "\(reason)")
            }
            #expect(try await provider.charge(idempotencyKey: "k1") == nil)
        }
    }

    @Test func nobodyListeningIsUnreachable() async throws {
        try await HTTPPaymentProvider.withOwnedClient(baseURL: URL(string: "http://127.0.0.1:1")!, requestTimeout: .milliseconds(500)) { provider in
            do {
                _ = try await provider.charge(chargeRequest(), idempotencyKey: "k1")
                Issue.record("nothing listens on port 1")
            } catch PaymentProviderError.unreachable {
                // Refused before a byte was written: certainly nothing was charged.
            }
        }
    }

    /// Issue 13 §4: a call queued behind connections the provider is holding never leaves
    /// the shop; it must say so (`.notSent`), not pass for a sent call without an answer.
    @Test func aCallStuckBehindHeldConnectionsIsNotSentAndTheHeldOneIsUnknown() async throws {
        let simulator = try SimulatedProvider(faults: Faults(timeoutRate: 1, seed: 9))
        let app = try buildPSPApplication(PSPConfig(port: 0, faults: simulator.faults, unansweredHold: .seconds(60)), provider: simulator)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let url = try #require(URL(string: "http://127.0.0.1:\(port)"))
            let pool = HTTPPaymentProvider.makeClient(connections: 1, connectTimeout: .milliseconds(300))
            let provider = HTTPPaymentProvider(baseURL: url, client: pool, requestTimeout: .seconds(30))
            let held = Task { try await provider.charge(chargeRequest(reference: "held"), idempotencyKey: "held") }
            // The held call is in the provider's hands once its charge is on the books.
            while await simulator.ledger().charges.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            do {
                _ = try await provider.charge(chargeRequest(reference: "queued"), idempotencyKey: "queued")
                Issue.record("the only connection is held for 30 s")
            } catch PaymentProviderError.notSent(let reason) {
                #expect(reason.contains("not sent"), "\(reason)")
            }
            #expect(await simulator.charge(idempotencyKey: "queued") == nil, "nothing reached the provider")
            held.cancel()
            _ = await held.result
            try await pool.shutdown()
        }
    }
}
