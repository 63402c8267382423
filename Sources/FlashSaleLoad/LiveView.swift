import FlashSaleCore
import Foundation

/// The progress display of a running crowd.
public enum LiveView {
    /// Calls `progress` about once a second until cancelled.
    static func tick(
        metrics: CrowdMetrics, since start: ContinuousClock.Instant, progress: (@Sendable (Double, LiveSnapshot, Double) -> Void)?
    ) async {
        guard let progress else { return }
        var previous = metrics.snapshot()
        var previousAt = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let now = ContinuousClock.now
            let snapshot = metrics.snapshot()
            let rate = Double(snapshot.requests - previous.requests) / max((now - previousAt).seconds, 0.001)
            progress((now - start).seconds, snapshot, rate)
            (previous, previousAt) = (snapshot, now)
        }
    }

    /// A progress callback that rewrites one terminal line, or nil when standard output is
    /// not a terminal (a log file or a pipe gets only the final report).
    public static func terminal() -> (@Sendable (Double, LiveSnapshot, Double) -> Void)? {
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        return { elapsed, snapshot, rate in
            let line = "\r\u{1B}[2K" + snapshot.line(elapsed: elapsed, requestsPerSecond: rate)
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }
}
