import Testing

@testable import FlashSaleCore

@Suite("ProcessStats")
struct ProcessStatsTests {
    /// A /proc/self/stat line whose command name holds spaces and a parenthesis.
    static let stat =
        "2734 (flash sale) x) R 2728 2728 20932 0 -1 4194304 99 0 0 0 250 50 0 0 20 0 1 0 4703935 3133440 396 "
        + "18446744073709551615 94066213265408 94066213285289 140728969049232 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"

    @Test("stat: CPU from utime and stime, memory from vsize and rss pages, start from starttime after boot")
    func stat() throws {
        let stats = try #require(ProcessStats.parse(stat: Self.stat, bootTime: 1_796_018_155, ticksPerSecond: 100, pageSize: 4096))
        #expect(stats.cpuSeconds == 3.0)
        #expect(stats.virtualBytes == 3_133_440)
        #expect(stats.residentBytes == 396 * 4096)
        #expect(stats.startTimeSeconds == 1_796_018_155 + 47_039.35)
    }

    @Test("a truncated or foreign line gives nil")
    func broken() {
        #expect(ProcessStats.parse(stat: "2734 (cat) R 1 2 3", bootTime: 0, ticksPerSecond: 100, pageSize: 4096) == nil)
        #expect(ProcessStats.parse(stat: "no parenthesis", bootTime: 0, ticksPerSecond: 100, pageSize: 4096) == nil)
    }

    @Test("btime of /proc/stat and the soft open-files limit of /proc/self/limits")
    func bootTimeAndLimits() {
        let procStat = "cpu  1 2 3 4\nintr 5\nctxt 6\nbtime 1796018155\nprocesses 7\n"
        #expect(ProcessStats.bootTime(procStat: procStat) == 1_796_018_155)
        let limits = """
            Limit                     Soft Limit           Hard Limit           Units
            Max processes             63422                63422                processes
            Max open files            20000                524288               files
            """
        #expect(ProcessStats.maxOpenFiles(limits: limits) == 20_000)
        #expect(ProcessStats.maxOpenFiles(limits: "Max open files            unlimited            unlimited            files") == nil)
    }
}
