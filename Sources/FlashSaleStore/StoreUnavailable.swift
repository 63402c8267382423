import NIOCore
import PostgresNIO

/// Whether a store call failed because the database could not be reached (it is down,
/// restarting, or dropped the connection), as opposed to a fault in the request or in the
/// shop. Such a failure says nothing about the request: the HTTP layer answers it 503
/// `unavailable` with `Retry-After`, and the background services log it and try again on
/// their next pass (postgres-nio's pool reconnects by itself once the server is back).
public enum StoreUnavailable {
    /// True for postgres-nio's connection failures (refused, reset, closed by the server or
    /// by a closing pool), for a server that is shutting down or starting up (SQLSTATE
    /// classes 08 and 57, but a cancelled statement), for the pool giving up on connecting,
    /// and for transactions that failed for any of these.
    public static func isUnavailable(_ error: any Error) -> Bool {
        switch error {
        case let error as PostgresTransactionError:
            return [error.beginError, error.closureError, error.commitError].contains { $0.map(isUnavailable) ?? false }
        case let error as PSQLError:
            if error.code == .server { return error.serverInfo?[.sqlState].map(isUnavailable(sqlState:)) ?? false }
            return isUnavailable(code: error.code)
        case is ChannelError, is IOError:
            return true
        case let error as StoreError:
            // Both say nothing about the request: a retry is answered (a settlement that
            // kept losing its guards retries with the attempt's own provider key).
            switch error {
            case .commitTimedOut, .settlementContended: return true
            default: return false
            }
        default:
            // postgres-nio's pool gives up after failing to connect for a while with a
            // `ConnectionPoolError` of its internal module (`connectionCreationCircuitBreakerTripped`).
            return String(describing: type(of: error)) == "ConnectionPoolError"
        }
    }

    /// postgres-nio's codes for a connection that failed, was lost, or whose pool closed.
    public static func isUnavailable(code: PSQLError.Code) -> Bool {
        [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed].contains(code)
    }

    /// SQLSTATE class 08 (connection exception) and class 57 (operator intervention:
    /// `57P01` admin shutdown, `57P02` crash shutdown, `57P03` cannot connect now), but
    /// `57014`, a statement cancelled on purpose.
    public static func isUnavailable(sqlState: String) -> Bool {
        sqlState.hasPrefix("08") || (sqlState.hasPrefix("57") && sqlState != "57014")
    }
}
