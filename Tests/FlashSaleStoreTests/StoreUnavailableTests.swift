import FlashSaleCore
import FlashSaleStore
import Foundation
import NIOCore
import PostgresNIO
import Testing

/// Which store failures mean "the database cannot be reached" (503 and try again) rather
/// than a fault of the request or of the shop.
@Suite struct StoreUnavailableTests {
    @Test func connectionFailuresOfPostgresNIOAreUnavailable() {
        for code in [PSQLError.Code.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed] {
            #expect(StoreUnavailable.isUnavailable(code: code), "\(code)")
        }
        for code in [PSQLError.Code.queryCancelled, .tooManyParameters, .server, .messageDecodingFailure, .listenFailed] {
            #expect(!StoreUnavailable.isUnavailable(code: code), "\(code)")
        }
        #expect(StoreUnavailable.isUnavailable(ChannelError.ioOnClosedChannel))
        #expect(StoreUnavailable.isUnavailable(IOError(errnoCode: 104, reason: "read")))  // ECONNRESET
    }

    @Test func shutdownAndStartUpStatesOfTheServerAreUnavailable() {
        // 57P01 admin_shutdown (pg_ctl stop/restart -m fast), 57P02 crash, 57P03 starting up,
        // 08006 connection failure.
        for state in ["57P01", "57P02", "57P03", "08006", "08001"] { #expect(StoreUnavailable.isUnavailable(sqlState: state), "\(state)") }
        // A cancelled statement, a unique violation, a serialization failure: not an outage.
        for state in ["57014", "23505", "40001", "42P01"] { #expect(!StoreUnavailable.isUnavailable(sqlState: state), "\(state)") }
    }

    @Test func faultsOfTheRequestOrTheShopAreNot() {
        #expect(!StoreUnavailable.isUnavailable(APIError.duplicateSKU))
        #expect(!StoreUnavailable.isUnavailable(CancellationError()))
        #expect(!StoreUnavailable.isUnavailable(StoreError.saleNotFound(UUID())))
    }
}
