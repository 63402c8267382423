import Foundation
import Testing

@testable import FlashSaleCore

@Suite("Identifiers and encodings")
struct IdentifierTests {
    @Test("time-ordered UUIDs are version 7, RFC 4122 variant, and sort by creation time")
    func timeOrdered() {
        let start = Date(timeIntervalSince1970: 1_796_148_000)
        let ids = (0..<200).map { UUID.timeOrdered(at: start.addingTimeInterval(Double($0) * 0.005)) }
        for id in ids {
            let bytes = id.bytes
            #expect(bytes[6] >> 4 == 7)
            #expect(bytes[8] >> 6 == 0b10)
        }
        // Whole milliseconds apart: the textual ids sort in creation order.
        let texts = ids.map(\.lowercased)
        #expect(texts == texts.sorted())
        #expect(Set(ids).count == ids.count)
        // The first 48 bits are the Unix milliseconds.
        let ms = ids[0].bytes.prefix(6).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(ms == 1_796_148_000_000)
    }

    @Test("lowercased text matches Foundation's uuidString, lowercased")
    func lowercasedText() {
        for _ in 0..<200 {
            let id = UUID()
            #expect(id.lowercased == id.uuidString.lowercased())
            #expect(UUID(uuidString: id.lowercased) == id)
        }
    }

    @Test("base64url agrees with Foundation's base64 for every length up to 100")
    func base64AgreesWithFoundation() {
        var generator = SplitMix64(seed: 7)
        for length in 0...100 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == expected)
            #expect(Base64URL.decode(expected) == bytes)
        }
        #expect(Base64URL.decode("a") == nil)
        #expect(Base64URL.decode("ab=c") == nil)
        #expect(Base64URL.decode("ab+c") == nil)
    }

    @Test("hex is lowercase and two digits a byte")
    func hex() {
        #expect(Hex.encode([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
        #expect(Hex.encode([]) == "")
    }
}
