import Foundation
import Testing
@testable import FlashSaleCore

@Suite("PassSigner and QueuePass")
struct PassSignerTests {
    let signer = PassSigner(secret: "test-secret")
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    func randomPass(_ rng: inout SplitMix64) -> QueuePass {
        // Whole milliseconds between 1970-01-01T00:00:00.001Z and roughly the year 2100.
        let arrival = Int64.random(in: 1...4_102_444_800_000, using: &rng)
        let admitted: Date? = rng.bool() ? Fixtures.date(ms: arrival + Int64.random(in: 0...86_400_000, using: &rng)) : nil
        return QueuePass(saleID: rng.uuid(), visitorID: rng.uuid(), firstArrival: Fixtures.date(ms: arrival), admittedAt: admitted)
    }

    func samplePass(admitted: Bool = false) -> QueuePass {
        QueuePass(
            saleID: UUID(uuidString: "6F0E8C1A-3B7D-4C2E-9A51-0D4B2F8E7C13")!,
            visitorID: UUID(uuidString: "0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9")!,
            firstArrival: Fixtures.date(ms: 1_796_147_990_123),
            admittedAt: admitted ? Fixtures.date(ms: 1_796_148_000_456) : nil)
    }

    @Test("sign then verify returns every field unchanged (random passes)")
    func roundTripProperty() {
        var rng = SplitMix64(seed: 0xC0FFEE)
        for _ in 0..<400 {
            let pass = randomPass(&rng)
            let token = signer.sign(pass)
            let back = signer.verify(token)
            #expect(back == pass, "token \(token)")
            #expect(back?.saleID == pass.saleID)
            #expect(back?.visitorID == pass.visitorID)
            #expect(back?.isAdmitted == pass.isAdmitted)
        }
    }

    @Test("times keep millisecond precision: sub-millisecond parts are rounded")
    func millisecondPrecision() throws {
        var pass = samplePass(admitted: true)
        pass.firstArrival = Date(timeIntervalSince1970: 1_796_147_990.123_4)
        pass.admittedAt = Date(timeIntervalSince1970: 1_796_148_000.456_6)
        let back = try #require(signer.verify(signer.sign(pass)))
        #expect(Fixtures.milliseconds(back.firstArrival) == 1_796_147_990_123)
        #expect(Fixtures.milliseconds(try #require(back.admittedAt)) == 1_796_148_000_457)
        #expect(abs(back.firstArrival.timeIntervalSince(pass.firstArrival)) <= 0.000_5)
    }

    @Test("a waiting pass (admittedAt nil) round-trips as waiting")
    func waitingRoundTrip() throws {
        let pass = samplePass(admitted: false)
        let back = try #require(signer.verify(signer.sign(pass)))
        #expect(back.admittedAt == nil)
        #expect(!back.isAdmitted)
        #expect(back == pass)
    }

    @Test("the token is 87 URL-safe base64 characters without padding")
    func tokenShape() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let token = signer.sign(randomPass(&rng))
            #expect(token.count == 87)
            #expect(token.utf8.count == 87)
            #expect(token.allSatisfy { Self.alphabet.contains($0) }, "\(token)")
            #expect(!token.contains("=") && !token.contains("+") && !token.contains("/"))
        }
    }

    @Test("signing is deterministic and every field feeds the signature")
    func deterministic() {
        let pass = samplePass(admitted: true)
        #expect(signer.sign(pass) == signer.sign(pass))
        var other = pass
        other.visitorID = UUID()
        #expect(signer.sign(other) != signer.sign(pass))
        other = pass
        other.firstArrival = pass.firstArrival.addingTimeInterval(0.001)
        #expect(signer.sign(other) != signer.sign(pass))
        other = pass
        other.admittedAt = nil
        #expect(signer.sign(other) != signer.sign(pass))
    }

    @Test("changing any character but the last one invalidates the token")
    func flipCharacter() {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<20 {
            let token = Array(signer.sign(randomPass(&rng)))
            for index in 0..<(token.count - 1) {
                var forged = token
                forged[index] = rng.element(of: Self.alphabet.filter { $0 != token[index] })
                #expect(signer.verify(String(forged)) == nil, "index \(index)")
            }
        }
    }

    /// 65 bytes need 520 bits, 87 characters carry 522: the last character has two spare bits.
    /// A strict decoder rejects non-zero spare bits; otherwise four tokens verify as one pass.
    @Test("changing the last character invalidates the token (non-canonical base64 is rejected)")
    func flipLastCharacter() {
        let token = Array(signer.sign(samplePass(admitted: true)))
        let accepted = Self.alphabet.filter { $0 != token[86] }.filter { replacement in
            var forged = token
            forged[86] = replacement
            return signer.verify(String(forged)) != nil
        }
        #expect(accepted.isEmpty, "other final characters that still verify: \(String(accepted))")
    }

    @Test("flipping any bits of any decoded byte invalidates the token")
    func flipByte() throws {
        var rng = SplitMix64(seed: 12)
        for _ in 0..<10 {
            let bytes = try #require(Base64URL.decode(signer.sign(randomPass(&rng))))
            #expect(bytes.count == 65)
            #expect(bytes[0] == 1, "version byte")
            for index in bytes.indices {
                var forged = bytes
                forged[index] ^= UInt8.random(in: 1...255, using: &rng)
                #expect(signer.verify(Base64URL.encode(forged)) == nil, "byte \(index)")
            }
        }
    }

    @Test("a token signed under another secret does not verify")
    func otherSecret() {
        var rng = SplitMix64(seed: 13)
        let other = PassSigner(secret: "test-secret ")
        for _ in 0..<100 {
            let pass = randomPass(&rng)
            #expect(other.verify(signer.sign(pass)) == nil)
            #expect(signer.verify(other.sign(pass)) == nil)
            #expect(PassSigner(secret: "test-secret").verify(signer.sign(pass)) == pass, "same secret, new signer")
        }
    }

    @Test("garbage, empty, truncated, padded and overlong tokens are rejected")
    func garbage() {
        let token = signer.sign(samplePass())
        let standard = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let middle: String = String(token.prefix(43)) + "." + String(token.suffix(43))
        var cases: [String] = ["", "a", "abc", "!!!", String(repeating: "A", count: 87), String(repeating: "A", count: 200)]
        cases += [String(token.dropLast()), String(token.dropFirst()), token + "A", token + "AA", token + "=", token + "=="]
        cases += [" " + token, token + " ", token + "\n", middle, standard + "+/", token + token]
        cases += [String(repeating: token, count: 3), "é" + String(token.dropFirst())]
        for text in cases {
            #expect(signer.verify(text) == nil, "\(text)")
        }
    }

    @Test("a random 65-byte token with the right version byte is not accepted")
    func randomForgeries() {
        var rng = SplitMix64(seed: 14)
        for _ in 0..<300 {
            var bytes = (0..<65).map { _ in UInt8.random(in: 0...255, using: &rng) }
            bytes[0] = 1
            #expect(signer.verify(Base64URL.encode(bytes)) == nil)
        }
    }

    @Test("admittedUntil is nil while waiting and admittedAt + ttl once admitted")
    func admittedUntil() {
        let waiting = samplePass(admitted: false)
        #expect(waiting.admittedUntil(ttlSeconds: 600) == nil)
        let admitted = samplePass(admitted: true)
        #expect(admitted.admittedUntil(ttlSeconds: 600) == admitted.admittedAt!.addingTimeInterval(600))
        #expect(admitted.admittedUntil(ttlSeconds: 1) == admitted.admittedAt!.addingTimeInterval(1))
        #expect(admitted.admittedUntil(ttlSeconds: 86_400)!.timeIntervalSince(admitted.admittedAt!) == 86_400)
    }

    @Test("Base64URL round-trips any bytes and rejects impossible lengths and foreign characters")
    func base64URL() {
        var rng = SplitMix64(seed: 15)
        for length in 0..<120 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(text.count == (length * 4 + 2) / 3)
            #expect(Base64URL.decode(text) == bytes)
        }
        #expect(Base64URL.decode("A") == nil)
        #expect(Base64URL.decode("AAAAA") == nil)
        #expect(Base64URL.decode("AA==") == nil)
        #expect(Base64URL.decode("A+B/") == nil)
        #expect(Base64URL.decode("AA AA") == nil)
        #expect(Base64URL.decode("") == [])
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
    }
}
