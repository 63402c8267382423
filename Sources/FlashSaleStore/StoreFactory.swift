import Foundation
import Logging

/// Opens the store a `--database` setting names.
public func makeStore(_ url: DatabaseURL, logger: Logger) throws -> any Store {
    switch url {
    case .sqliteMemory: try SQLiteStore(path: nil)
    case .sqliteFile(let path): try SQLiteStore(path: path)
    case .postgres(let settings): PostgresStore(settings, logger: logger)
    }
}
