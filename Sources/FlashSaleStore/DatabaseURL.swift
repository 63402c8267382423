import Foundation

/// The `--database` setting: `sqlite:PATH`, `sqlite::memory:` or a `postgres://` URL.
public enum DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    case sqliteFile(path: String)
    case sqliteMemory
    case postgres(Postgres)

    /// A PostgreSQL database, which several nodes may share.
    public var isPostgres: Bool {
        if case .postgres = self { true } else { false }
    }

    public struct Postgres: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String?
    }

    public static let `default` = DatabaseURL.sqliteFile(path: "./flashsale.sqlite")

    public init(parsing text: String) throws {
        if text == "sqlite::memory:" {
            self = .sqliteMemory
        } else if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }  // sqlite:///abs/path
            guard !path.isEmpty else { throw StoreError.invalidDatabaseURL("sqlite: needs a path, as in sqlite:./flashsale.sqlite") }
            self = .sqliteFile(path: path)
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            guard let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
                throw StoreError.invalidDatabaseURL("not a valid postgres URL: postgres://user:pass@host:port/db")
            }
            let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
            self = .postgres(
                Postgres(
                    host: host, port: url.port ?? 5432, username: url.user ?? "postgres",
                    password: url.password, database: database.isEmpty ? nil : database))
        } else {
            throw StoreError.invalidDatabaseURL(
                "unknown database \(text); use sqlite:PATH, sqlite::memory: or postgres://user:pass@host:port/db")
        }
    }

    /// Safe to log: the password is masked.
    public var description: String {
        switch self {
        case .sqliteFile(let path): "sqlite:\(path)"
        case .sqliteMemory: "sqlite::memory:"
        case .postgres(let pg):
            "postgres://\(pg.username)\(pg.password == nil ? "" : ":***")@\(pg.host):\(pg.port)/\(pg.database ?? "")"
        }
    }
}
