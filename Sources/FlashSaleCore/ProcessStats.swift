/// The standard process figures of Prometheus client libraries, parsed from the text of
/// Linux's `/proc` files (proc(5)). Pure: the server reads the files at scrape time and
/// hands their text here.
public struct ProcessStats: Sendable, Equatable {
    /// `process_cpu_seconds_total`: user plus system CPU time.
    public var cpuSeconds: Double
    /// `process_resident_memory_bytes`.
    public var residentBytes: Double
    /// `process_virtual_memory_bytes`.
    public var virtualBytes: Double
    /// `process_start_time_seconds`: since the Unix epoch.
    public var startTimeSeconds: Double

    /// Parses `/proc/self/stat` (one line). After the command name, which is in parentheses
    /// and may itself hold spaces and parentheses (so the line is cut at the last `)`), the
    /// fields counted from 1 are: (14) utime and (15) stime in clock ticks, (22) starttime in
    /// clock ticks after boot, (23) vsize in bytes and (24) rss in pages.
    ///
    /// - Parameters:
    ///   - bootTime: `btime` of `/proc/stat`, seconds since the epoch (`bootTime(procStat:)`).
    ///   - ticksPerSecond: `sysconf(_SC_CLK_TCK)`.
    ///   - pageSize: `sysconf(_SC_PAGESIZE)`.
    public static func parse(stat: String, bootTime: Double, ticksPerSecond: Double, pageSize: Double) -> ProcessStats? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        // Field 3 (state) is the first after the name.
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        func field(_ number: Int) -> Double? {
            let index = number - 3
            return fields.indices.contains(index) ? Double(fields[index]) : nil
        }
        guard let utime = field(14), let stime = field(15), let start = field(22), let vsize = field(23), let rss = field(24),
            ticksPerSecond > 0
        else { return nil }
        return ProcessStats(
            cpuSeconds: (utime + stime) / ticksPerSecond, residentBytes: rss * pageSize, virtualBytes: vsize,
            startTimeSeconds: bootTime + start / ticksPerSecond)
    }

    /// `btime` of `/proc/stat`: the boot instant, seconds since the epoch.
    public static func bootTime(procStat: String) -> Double? {
        for line in procStat.split(separator: "\n") where line.hasPrefix("btime ") {
            return line.split(separator: " ").dropFirst().first.flatMap { Double($0) }
        }
        return nil
    }

    /// The soft limit of the `Max open files` row of `/proc/self/limits` (`process_max_fds`);
    /// nil when it reads `unlimited`.
    public static func maxOpenFiles(limits: String) -> Double? {
        for line in limits.split(separator: "\n") where line.hasPrefix("Max open files") {
            return line.dropFirst("Max open files".count).split(separator: " ").first.flatMap { Double($0) }
        }
        return nil
    }
}
