import Foundation
import Testing
@testable import FlashSaleCore

@Suite("Timestamp")
struct TimestampTests {
    @Test("whole seconds have no fraction; other instants have milliseconds; always a Z")
    func format() {
        #expect(Timestamp.format(Fixtures.saleStart) == "2026-12-01T18:00:00Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.format(Fixtures.date(ms: 1_796_148_000_500)) == "2026-12-01T18:00:00.500Z")
        #expect(Timestamp.format(Fixtures.date(ms: 1_796_148_000_250)) == "2026-12-01T18:00:00.250Z")
    }

    @Test("specific millisecond values format exactly", arguments: [
        (Int64(1_796_148_000_123), "2026-12-01T18:00:00.123Z"),
        (1_796_148_000_001, "2026-12-01T18:00:00.001Z"),
        (1_796_148_000_999, "2026-12-01T18:00:00.999Z"),
        (1_700_000_000_007, "2023-11-14T22:13:20.007Z"),
        (1_234_567_891_011, "2009-02-13T23:31:31.011Z"),
    ])
    func formatMilliseconds(ms: Int64, expected: String) {
        #expect(Timestamp.format(Fixtures.date(ms: ms)) == expected)
    }

    @Test("property: format then parse keeps the instant to the millisecond")
    func roundTrip() throws {
        var rng = SplitMix64(seed: 0x71AE)
        var failures: [String] = []
        for _ in 0..<500 {
            let ms = Int64.random(in: 0...4_102_444_800_000, using: &rng)
            let text = Timestamp.format(Fixtures.date(ms: ms))
            #expect(text.hasSuffix("Z"))
            #expect(text.count == 20 || text.count == 24, "\(text)")
            let back = try #require(Timestamp.parse(text), "\(text)")
            if Fixtures.milliseconds(back) != ms { failures.append("\(ms) → \(text)") }
        }
        #expect(failures.count == 0, "of 500 instants, these lost a millisecond, e.g. \(failures.prefix(3))")
    }

    @Test("an instant a hair before a whole second rounds up to that second, not down")
    func roundsToNearestMillisecond() throws {
        let date = Date(timeIntervalSince1970: 1_796_148_000.999_8)
        let text = Timestamp.format(date)
        #expect(text == "2026-12-01T18:00:01Z")
        let back = try #require(Timestamp.parse(text))
        #expect(abs(back.timeIntervalSince(date)) < 0.001, "\(text)")
    }

    @Test("RFC 3339 forms parse", arguments: [
        ("2026-12-01T18:00:00Z", Int64(1_796_148_000_000)),
        ("2026-12-01T18:00:00.5Z", 1_796_148_000_500),
        ("2026-12-01T18:00:00.250Z", 1_796_148_000_250),
        ("2026-12-01T18:00:00.123456Z", 1_796_148_000_123),
        ("2026-12-01T19:00:00+01:00", 1_796_148_000_000),
        ("2026-12-01T13:30:00-04:30", 1_796_148_000_000),
        ("2026-12-01T19:00:00.250+01:00", 1_796_148_000_250),
    ])
    func parses(text: String, ms: Int64) throws {
        let date = try #require(Timestamp.parse(text))
        #expect(Fixtures.milliseconds(date) == ms)
    }

    @Test("non-timestamps do not parse", arguments: [
        "", "tomorrow", "2026-12-01", "18:00:00Z", "2026-12-01 18:00:00Z", "2026-12-01T18:00:00",
        "1796148000", "2026/12/01T18:00:00Z", "2026-12-01T18:00Z",
    ])
    func rejects(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    /// An operator's typo must be a 422, not a sale that silently starts on another day.
    @Test("impossible calendar values do not parse", arguments: [
        "2026-02-30T18:00:00Z", "2026-12-01T25:00:00Z", "2026-13-01T18:00:00Z", "2026-12-01T18:61:00Z",
    ])
    func rejectsImpossibleDates(text: String) {
        #expect(Timestamp.parse(text) == nil, "parsed as \(Timestamp.parse(text).map(Timestamp.format) ?? "")")
    }
}
