import Logging
import Synchronization

/// The lines an app logged, for tests that look at what a request left in the logs.
final class LogCapture: Sendable {
    struct Line: Sendable {
        var message: String
        var metadata: [String: String]
    }

    private let captured = Mutex<[Line]>([])

    var lines: [Line] { captured.withLock { $0 } }

    /// A logger that records here, with `provider` as `LogSetup` would install it (or none,
    /// as in a process that never bootstrapped logging).
    func logger(provider: Logger.MetadataProvider? = nil) -> Logger {
        Logger(label: "capture") { _ in Handler(capture: self, metadataProvider: provider) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadataProvider: Logger.MetadataProvider?
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(metadataProvider?.get() ?? [:]) { $1 }.merging(event.metadata ?? [:]) { $1 }
            let line = Line(message: "\(event.message)", metadata: all.mapValues { "\($0)" })
            capture.captured.withLock { $0.append(line) }
        }
    }
}
