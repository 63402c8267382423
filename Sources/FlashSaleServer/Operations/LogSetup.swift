import FlashSaleCore
import Foundation
import Logging

/// Process-wide logging: human-readable text, or one JSON object per line for collectors.
public enum LogSetup {
    public static func bootstrap(level: String, format: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: level.lowercased()) else {
            throw ConfigError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        switch format {
        case "text": LoggingSystem.bootstrap { StreamLogHandler.standardOutput(label: $0) }
        case "json": LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        default: throw ConfigError("--log-format must be text or json")
        }
        var logger = Logger(label: "flashsale")
        logger.logLevel = level
        return logger
    }
}

/// One JSON object per line on standard output: time, level, message, metadata.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = ["time": Timestamp.format(Date()), "level": event.level.rawValue,
                                        "message": "\(event.message)", "logger": label]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { fields[key] = "\(value)" }
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
