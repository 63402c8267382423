import FlashSaleCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import FlashSaleServer

/// The reseller checks at checkout, through the real router and store: jigged drop
/// addresses count as one customer, a payment over the limit gives its units back at
/// once, and the orders that look resold are flagged for the operator with their reasons.
@Suite struct ResellerCheckoutTests {
    static let jigs = ["12 Main Street Apt 4", "XQ7 12 main st #4", "ZZ 12 Main Str, Unit 4", "12 MAIN ST APARTMENT 4 qq"]

    @Test func aJiggedDropAddressIsOneCustomerAndItsRefusedReservationIsReleasedAtOnce() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale(["quantity": 10, "per_customer_limit": 1])
            var paid = 0
            for (index, line1) in Self.jigs.enumerated() {
                let reservation = try await client.reservation(in: sale, email: "buyer\(index)@fresh\(index).example")
                let card = CardDetails.withCheckDigit("41111111111\(String(format: "%04d", index))")
                let reply = try await client.pay(reservation, card: card, line1: line1)
                if reply.status == .created {
                    paid += 1
                } else {
                    #expect(reply.status.code == 422 && reply.error == "limit_exceeded", "\(reply.text)")
                    // Released, not held until expiry: nothing stays reserved for it.
                    #expect(try await client.stats(sale).int("reserved") == 0)
                    #expect(try await client.send(.delete, "/api/v1/reservations/\(reservation)").status == .noContent)
                }
            }
            #expect(paid == 1, "four spellings of one door buy one unit")
            let stats = try await client.stats(sale)
            #expect(stats.int("sold") == 1 && stats.int("available") == 9 && stats.int("reserved") == 0, "\(stats.text)")
        }
    }

    @Test func ordersThatLookResoldAreFlaggedWithTheirReasons() async throws {
        try await withApp { client, _ in
            let sale = try await client.createSale(["quantity": 20, "per_customer_limit": 1])
            // Six customers at once into one building, flat by flat, paying within a second.
            var orders: [String] = []
            for flat in 1...6 {
                let reservation = try await client.reservation(in: sale, email: "flat\(flat)@dropbuilding.example")
                let card = CardDetails.withCheckDigit("45566677788\(String(format: "%04d", flat))")
                let reply = try await client.pay(reservation, card: card, line1: "12 Main St Apt \(flat)")
                #expect(reply.status == .created, "\(reply.text)")
                orders.append(try #require(reply["order_id"]))
            }
            let listed = try await client.send(.get, "/api/v1/admin/orders?flagged=true&sale_id=\(sale)", headers: adminAuth)
            #expect(listed.status == .ok)
            let flagged = try #require(listed.json["orders"] as? [[String: Any]])
            let byID = Dictionary(uniqueKeysWithValues: flagged.map { ($0["order_id"] as? String ?? "", $0["flags"] as? [String] ?? []) })
            // The first orders share nothing yet; later ones share the building and the domain.
            #expect(byID[orders[0]] == nil)
            let last = try #require(byID[orders[5]], "\(listed.text)")
            #expect(last.contains("address_cluster") && last.contains("fast_checkout") && last.contains("email_cluster"), "\(last)")
            // The operator cancels it: refunded, and the unit is on sale again.
            let before = try await client.stats(sale).int("available") ?? 0
            let cancelled = try await client.send(.post, "/api/v1/admin/orders/\(orders[5])/cancel", headers: adminAuth)
            #expect(cancelled.status == .ok, "\(cancelled.text)")
            #expect(try await client.stats(sale).int("available") == before + 1)
        }
    }
}
