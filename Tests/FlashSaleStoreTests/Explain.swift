import Logging
import PostgresNIO

/// The plan PostgreSQL prints for `query` under `EXPLAIN (options)` on `connection`, a line
/// per element. With `ANALYZE` the statement runs, writes included.
func explain(_ query: PostgresQuery, options: String, on connection: PostgresConnection, logger: Logger) async throws -> [String] {
    var lines: [String] = []
    let rows = try await connection.query(PostgresQuery(unsafeSQL: "EXPLAIN (\(options)) " + query.sql, binds: query.binds), logger: logger)
    for try await line in rows.decode(String.self) { lines.append(line) }
    return lines
}
