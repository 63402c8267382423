import FlashSaleCore
import FlashSaleStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import FlashSaleServer

/// Two nodes of one deployment: one store, one secret, `--node-count 2`.
@Suite struct MultiNodeTests {
    @Test func aPassIssuedByOneNodeIsHonouredByTheOther() async throws {
        let store = try SQLiteStore(path: nil)
        var config = ServerConfig.testing
        config.nodeCount = 2
        let first = try await buildApplication(config, store: store)
        config.nodeIndex = 1
        let second = try await buildApplication(config, store: store)
        try await first.test(.router) { one in
            try await second.test(.router) { two in
                let sale = try await one.createSale(["starts_at": Timestamp.format(Date().addingTimeInterval(60))])
                let joined = try await one.join(sale)
                let pass = try #require(joined["pass"])
                #expect(joined["status"] == "not_started")
                // The other node keeps the same place (the same visitor, the same first arrival).
                let polled = try await two.send(.get, "/api/v1/sales/\(sale)/queue", headers: [WaitingRoom.passHeader: pass])
                let signer = PassSigner(secret: ServerConfig.testing.secret)
                let before = try #require(signer.verify(pass))
                let token = try #require(polled["pass"])
                let after = try #require(signer.verify(token))
                #expect(after.visitorID == before.visitorID && after.firstArrival == before.firstArrival)
                // And an admitted pass from one node reserves on the other.
                let live = try await one.createSale()
                let admitted = try await one.admittedPass(live)
                let reserved = try await two.reserve(live, pass: admitted, json: #"{"email": "n@example.com", "quantity": 1}"#)
                #expect(reserved.status == .created, "\(reserved.text)")
            }
        }
    }
}
