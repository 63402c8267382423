import Logging
import NIOCore
import PostgresNIO

/// A transaction whose statements are sent in groups, back to back: the connection sends
/// each as soon as the one before it completes, on its event loop, and the calling task
/// waits once per group instead of once per statement.
///
/// Why: on a saturated machine each wait is a wake-up of the task, which costs more than
/// the round trip itself, while the transaction holds its pooled connection, and, from its
/// first write, row locks (issue 15: the sale's inventory row was held across the task's
/// wake-up before its COMMIT could be sent). A group is sent whole; a statement that fails
/// aborts the transaction, the rest of its group then fails too, and the first error is
/// the one thrown.
final class PipelinedTransaction {
    private let connection: PostgresConnection
    private let logger: Logger
    private var open = false

    private init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Runs `body` on a connection of `pool`; rolls back whatever `body` began and did not
    /// commit, whether it returned or threw.
    static func run<T>(
        on pool: PostgresClient, logger: Logger, _ body: (PipelinedTransaction) async throws -> T
    ) async throws -> T {
        try await pool.withConnection { connection in
            let transaction = PipelinedTransaction(connection, logger: logger)
            do {
                let result = try await body(transaction)
                await transaction.rollback()
                return result
            } catch {
                await transaction.rollback()
                throw error
            }
        }
    }

    /// Sends BEGIN and `queries`; their results, in order.
    func begin(_ queries: [PostgresQuery]) async throws -> [PostgresQueryResult] {
        open = true
        return Array(try await send(["BEGIN"] + queries).dropFirst())
    }

    /// Sends `queries` and COMMIT; their results, in order. (A COMMIT after a failed
    /// statement rolls back; the statement's error is thrown.)
    func commit(_ queries: [PostgresQuery]) async throws -> [PostgresQueryResult] {
        let results = try await send(queries + ["COMMIT"])
        open = false
        return Array(results.dropLast())
    }

    /// Ends an open transaction without its writes; a no-op after `commit`.
    func rollback() async {
        guard open else { return }
        open = false
        _ = try? await send(["ROLLBACK"])
    }

    private func send(_ queries: [PostgresQuery]) async throws -> [PostgresQueryResult] {
        let futures: [EventLoopFuture<PostgresQueryResult>] = queries.map { connection.query($0, logger: logger) }
        let settled = try await EventLoopFuture.whenAllComplete(futures, on: connection.eventLoop).get()
        return try settled.map { try $0.get() }
    }
}
