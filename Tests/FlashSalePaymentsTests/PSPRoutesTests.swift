import Foundation
import HummingbirdTesting
import Testing

@testable import FlashSalePayments

/// The provider's HTTP contract, through its real router.
@Suite struct PSPRoutesTests {
    func withRouter(faults: Faults = .none, _ body: @Sendable (any TestClientProtocol, SimulatedProvider) async throws -> Void) async throws {
        let provider = try SimulatedProvider(faults: faults)
        let app = try buildPSPApplication(PSPConfig(port: 0, faults: faults), provider: provider)
        try await app.test(.router) { client in try await body(client, provider) }
    }

    @Test func aChargeIsCreatedThenReplayed() async throws {
        try await withRouter { client, provider in
            let created = try await client.call(.post, "/v1/charges", key: "k1", body: chargeJSON())
            #expect(created.status == .created && created["status"] == "succeeded", "\(created.text)")
            let id = try #require(created["id"])
            let again = try await client.call(.post, "/v1/charges", key: "k1", body: chargeJSON().replacingOccurrences(of: "\n", with: " "))
            #expect(again.status == .created && again["id"] == id)
            #expect(await provider.ledger().charges.map(\.id) == [id])
        }
    }

    @Test(arguments: [(CardRules.declined, "card_declined"), (CardRules.insufficientFunds, "insufficient_funds"), ("4242424242424241", "invalid_card")])
    func declinesAre402CardDeclined(_ number: String, _ code: String) async throws {
        try await withRouter { client, provider in
            for _ in 0..<2 {
                let reply = try await client.call(.post, "/v1/charges", key: "k1", body: chargeJSON(number: number))
                #expect(reply.status.code == 402)
                #expect(reply["error"] == "card_declined" && reply["decline_code"] == code && reply["message"] != nil)
            }
            #expect(await provider.ledger().charges.isEmpty)
        }
    }

    @Test func theKeyIsRequiredAndBoundToItsBody() async throws {
        try await withRouter { client, _ in
            let missing = try await client.call(.post, "/v1/charges", body: chargeJSON())
            #expect(missing.status == .badRequest && missing["error"] == "idempotency_key_required")
            _ = try await client.call(.post, "/v1/charges", key: "k1", body: chargeJSON())
            let reused = try await client.call(.post, "/v1/charges", key: "k1", body: chargeJSON(amount: "100"))
            #expect(reused.status == .unprocessableContent && reused["error"] == "idempotency_key_reused")
        }
    }

    @Test(arguments: ["", "{", "[]", "null", "{\"amount_cents\": 1}", chargeJSON(amount: "\"12\""), chargeJSON(amount: "1.5"),
                      chargeJSON(amount: "-5"), chargeJSON(amount: "99999999999999999999")])
    func badBodiesAre4xxJSON(_ body: String) async throws {
        try await withRouter { client, provider in
            let reply = try await client.call(.post, "/v1/charges", key: "k1", body: body)
            #expect((400..<500).contains(reply.status.code), "\(body): \(reply.status) \(reply.text)")
            #expect(reply["error"] != nil && reply["message"] != nil, "\(reply.text)")
            #expect(await provider.ledger().charges.isEmpty)
        }
    }

    @Test func oversizeBodiesAre413() async throws {
        try await withRouter { client, _ in
            let reply = try await client.call(.post, "/v1/charges", key: "k1", body: chargeJSON(reference: String(repeating: "x", count: 100_000)))
            #expect(reply.status == .contentTooLarge && reply["error"] == "payload_too_large")
        }
    }

    @Test func lookupByKey() async throws {
        try await withRouter { client, _ in
            let key = "key with spaces & symbols+/?"
            let created = try await client.call(.post, "/v1/charges", key: key, body: chargeJSON())
            let encoded = try #require(key.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
            let found = try await client.call(.get, "/v1/charges?idempotency_key=\(encoded)")
            #expect(found.status == .ok && found["id"] == created["id"] && found["idempotency_key"] == key, "\(found.text)")
            #expect(found.fields["amount_cents"] as? Int == 12_900 && found["card_last4"] == "4242" && found["created_at"]?.hasSuffix("Z") == true)
            #expect(try await client.call(.get, "/v1/charges?idempotency_key=nope").status == .notFound)
            #expect(try await client.call(.get, "/v1/charges").status == .badRequest)
        }
    }

    @Test func refundsOverHTTP() async throws {
        try await withRouter { client, _ in
            let id = try #require(try await client.call(.post, "/v1/charges", key: "c1", body: chargeJSON())["id"])
            let refund = try await client.call(.post, "/v1/refunds", key: "r1", body: "{\"charge_id\": \"\(id)\"}")
            #expect(refund.status == .created && refund["charge_id"] == id && refund.fields["amount_cents"] as? Int == 12_900)
            let replay = try await client.call(.post, "/v1/refunds", key: "r1", body: "{\"charge_id\": \"\(id)\"}")
            #expect(replay.status == .created && replay["id"] == refund["id"])
            let twice = try await client.call(.post, "/v1/refunds", key: "r2", body: "{\"charge_id\": \"\(id)\"}")
            #expect(twice.status == .conflict && twice["error"] == "already_refunded")
            let unknown = try await client.call(.post, "/v1/refunds", key: "r3", body: "{\"charge_id\": \"ch_nope\"}")
            #expect(unknown.status == .notFound && unknown["error"] == "charge_not_found")
            #expect(try await client.call(.post, "/v1/refunds", body: "{\"charge_id\": \"\(id)\"}").status == .badRequest)
            #expect(try await client.call(.post, "/v1/refunds", key: "r4", body: "{\"charge\": 1}").status == .unprocessableContent)
        }
    }

    @Test func theLedgerListsChargesAndRefunds() async throws {
        try await withRouter { client, _ in
            let id = try #require(try await client.call(.post, "/v1/charges", key: "c1", body: chargeJSON())["id"])
            _ = try await client.call(.post, "/v1/charges", key: "d1", body: chargeJSON(number: CardRules.declined))
            _ = try await client.call(.post, "/v1/refunds", key: "r1", body: "{\"charge_id\": \"\(id)\"}")
            let ledger = try await client.call(.get, "/v1/ledger")
            let decoded = try JSONDecoder().decode(LedgerShape.self, from: Data(ledger.text.utf8))
            #expect(decoded.charges.map(\.id) == [id] && decoded.charges.map(\.refunded) == [true])
            #expect(decoded.refunds.map(\.charge_id) == [id])
        }
    }

    @Test func failRateAnswers503AndChargesNothing() async throws {
        try await withRouter(faults: Faults(failRate: 1, seed: 1)) { client, provider in
            let reply = try await client.call(.post, "/v1/charges", key: "k1", body: chargeJSON())
            #expect(reply.status == .serviceUnavailable && reply["error"] == "unavailable")
            #expect(try await client.call(.get, "/v1/charges?idempotency_key=k1").status == .notFound)
            #expect(await provider.ledger().charges.isEmpty)
        }
    }

    @Test func unknownAddressesAreJSON404() async throws {
        try await withRouter { client, _ in
            let reply = try await client.call(.get, "/v1/nothing")
            #expect(reply.status == .notFound && reply["error"] == "not_found")
        }
    }

    struct LedgerShape: Decodable {
        struct Charge: Decodable { var id: String; var refunded: Bool }
        struct Refund: Decodable { var charge_id: String }
        var charges: [Charge]
        var refunds: [Refund]
    }
}
