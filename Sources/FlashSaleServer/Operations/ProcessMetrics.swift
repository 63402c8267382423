import FlashSaleCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The standard process metrics, named as every Prometheus client library names them (no
/// `flashsale_` prefix, so stock dashboards and alerts work), read from `/proc/self` at
/// scrape time. Linux only; elsewhere nothing is written.
enum ProcessMetrics {
    /// The exposition text of the six families, or "" where `/proc` cannot be read.
    static func text() -> String {
        #if os(Linux)
        guard let stat = contents(of: "/proc/self/stat"), let procStat = contents(of: "/proc/stat"),
            let boot = ProcessStats.bootTime(procStat: procStat),
            let stats = ProcessStats.parse(
                stat: stat, bootTime: boot, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
                pageSize: Double(sysconf(Int32(_SC_PAGESIZE))))
        else { return "" }
        var families: [(name: String, type: String, help: String, value: Double)] = [
            ("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", stats.cpuSeconds),
            ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", stats.residentBytes),
            ("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", stats.virtualBytes),
            ("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.", stats.startTimeSeconds),
        ]
        // Entries of /proc/self/fd: the descriptors open now (the listing's own among them).
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            families.append(("process_open_fds", "gauge", "Number of open file descriptors.", Double(fds.count)))
        }
        if let limits = contents(of: "/proc/self/limits"), let max = ProcessStats.maxOpenFiles(limits: limits) {
            families.append(("process_max_fds", "gauge", "Maximum number of open file descriptors.", max))
        }
        return families.map { "# HELP \($0.name) \($0.help)\n# TYPE \($0.name) \($0.type)\n\($0.name) \($0.value)\n" }.joined()
        #else
        return ""
        #endif
    }

    /// /proc files report a size of 0, so they are read to the end rather than by size.
    private static func contents(of path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return (try? handle.readToEnd()).map { String(decoding: $0, as: UTF8.self) }
    }
}
