import FlashSaleCore
import Foundation
import Logging
import OTel

/// Process-wide logging: human-readable text, or one JSON object per line for collectors.
/// Every line logged while a request is handled carries its `request_id`, whichever logger
/// logs it; with `traceIDs`, lines logged inside a span also carry `trace_id` and `span_id`.
public enum LogSetup {
    public static func bootstrap(level: String, format: String, traceIDs: Bool = false) throws -> Logger {
        guard let level = Logger.Level(rawValue: level.lowercased()) else {
            throw ConfigError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        let provider = traceIDs ? Logger.MetadataProvider.multiplex([.requestID, OTel.makeLoggingMetadataProvider()]) ?? .requestID : .requestID
        switch format {
        case "text": LoggingSystem.bootstrap({ label, _ in StreamLogHandler.standardOutput(label: label, metadataProvider: provider) }, metadataProvider: provider)
        case "json": LoggingSystem.bootstrap({ label, _ in JSONLogHandler(label: label, metadataProvider: provider) }, metadataProvider: provider)
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
    public var metadataProvider: Logger.MetadataProvider?
    let label: String

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = ["time": Timestamp.format(Date()), "level": event.level.rawValue,
                                        "message": "\(event.message)", "logger": label]
        let provided = metadataProvider?.get() ?? [:]
        for (key, value) in metadata.merging(provided, uniquingKeysWith: { $1 }).merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields[key] = "\(value)"
        }
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
