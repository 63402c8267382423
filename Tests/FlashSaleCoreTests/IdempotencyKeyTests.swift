import Foundation
import Testing
@testable import FlashSaleCore

@Suite("IdempotencyKey and IdempotencyClaim")
struct IdempotencyKeyTests {
    @Test("valid keys: 1–255 printable ASCII characters", arguments: [
        "a", "0", " ", "~", "3f1c2e9a-7b4d-4e21-9a0b-5c6d7e8f9a01", "order 42 / retry #3",
        String(repeating: "k", count: 255), ##"!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"##,
    ])
    func valid(key: String) {
        #expect(IdempotencyKey.isValid(key))
    }

    @Test("invalid keys", arguments: [
        "", String(repeating: "k", count: 256), String(repeating: "k", count: 10_000), "tab\there", "new\nline",
        "cr\r", "nul\u{0}", "del\u{7F}", "esc\u{1B}", "café", "ключ", "🔑", "\u{00A0}nbsp", "\u{200B}",
    ])
    func invalid(key: String) {
        #expect(!IdempotencyKey.isValid(key))
    }

    @Test("property: validity is exactly 1–255 bytes, each 0x20...0x7E")
    func validityProperty() {
        var rng = SplitMix64(seed: 0x1D3)
        for _ in 0..<400 {
            let length = Int.random(in: 0...300, using: &rng)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) }
            let corrupt = length > 0 && rng.bool(0.4)
            if corrupt {
                bytes[Int.random(in: 0..<length, using: &rng)] = rng.bool() ? UInt8.random(in: 0...0x1F, using: &rng) : 0x7F
            }
            let key = String(decoding: bytes, as: UTF8.self)
            #expect(IdempotencyKey.isValid(key) == ((1...255).contains(length) && !corrupt), "\(key.debugDescription)")
        }
    }

    @Test("keys are retained at least the 24 hours the contract promises")
    func retention() {
        #expect(IdempotencyKey.retention >= 24 * 3600)
    }

    @Test("fingerprints are SHA-256 hex of the body")
    func knownFingerprints() {
        let empty = IdempotencyClaim(scope: "s", key: "k", body: Data())
        #expect(empty.fingerprint == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let abc = IdempotencyClaim(scope: "s", key: "k", body: Array("abc".utf8))
        #expect(abc.fingerprint == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("property: equal bodies share a fingerprint, different bodies do not")
    func fingerprintProperty() {
        var rng = SplitMix64(seed: 0xF1F)
        var seen: [String: [UInt8]] = [:]
        for _ in 0..<400 {
            let body = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let a = IdempotencyClaim(scope: "scope-a", key: "k1", body: body)
            let b = IdempotencyClaim(scope: "scope-b", key: "k2", body: Data(body))
            #expect(a.fingerprint == b.fingerprint, "the fingerprint depends on the body alone")
            #expect(a.fingerprint.count == 64)
            #expect(a.fingerprint.allSatisfy { "0123456789abcdef".contains($0) })
            if let earlier = seen[a.fingerprint] { #expect(earlier == body, "collision") }
            seen[a.fingerprint] = body
            if !body.isEmpty {
                var changed = body
                changed[Int.random(in: 0..<body.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
                #expect(IdempotencyClaim(scope: "scope-a", key: "k1", body: changed).fingerprint != a.fingerprint)
                #expect(IdempotencyClaim(scope: "scope-a", key: "k1", body: body + [0]).fingerprint != a.fingerprint)
            }
        }
    }

    @Test("equal body bytes are the same request, a changed value is another")
    func bytesNotSemantics() {
        let a = IdempotencyClaim(scope: "s", key: "k", body: Data(#"{"email":"a@example.com","quantity":1}"#.utf8))
        let b = IdempotencyClaim(scope: "s", key: "k", body: Data(#"{"email":"a@example.com","quantity":2}"#.utf8))
        let c = IdempotencyClaim(scope: "s", key: "k", body: Data(#"{"email":"a@example.com","quantity":1}"#.utf8))
        #expect(a != b && a.fingerprint != b.fingerprint)
        #expect(a == c && a.fingerprint == c.fingerprint)
    }

    @Test("claims built from a fingerprint equal claims built from the body; KeyID ignores the body")
    func claimIdentity() {
        let fromBody = IdempotencyClaim(scope: "s", key: "k", body: Data("x".utf8))
        let fromPrint = IdempotencyClaim(scope: "s", key: "k", fingerprint: fromBody.fingerprint)
        #expect(fromBody == fromPrint)
        let other = IdempotencyClaim(scope: "s", key: "k", body: Data("y".utf8))
        #expect(ReservationPlanner.KeyID(fromBody) == ReservationPlanner.KeyID(other))
        #expect(ReservationPlanner.KeyID(fromBody) != ReservationPlanner.KeyID(IdempotencyClaim(scope: "t", key: "k", body: Data("x".utf8))))
    }

    @Test("a stored error response keeps the error's status and JSON body")
    func storedResponse() {
        let stored = StoredResponse(APIError.idempotencyKeyReused)
        #expect(stored.status == 422)
        #expect(stored.body == APIError.idempotencyKeyReused.body)
        #expect(APIError.idempotencyKeyRequired.status == 400)
        #expect(APIError.requestInProgress.status == 409)
    }
}
