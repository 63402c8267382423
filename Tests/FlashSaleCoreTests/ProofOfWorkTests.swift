import Crypto
import Foundation
import Testing

@testable import FlashSaleCore

struct ProofOfWorkTests {
    @Test func leadingZeroBitsCountsFromTheFirstByte() {
        #expect(ProofOfWork.leadingZeroBits([0x80, 0x00]) == 0)
        #expect(ProofOfWork.leadingZeroBits([0x01, 0xFF]) == 7)
        #expect(ProofOfWork.leadingZeroBits([0x00, 0x20]) == 10)
        #expect(ProofOfWork.leadingZeroBits([0x00, 0x00]) == 16)
        #expect(ProofOfWork.leadingZeroBits([UInt8]()) == 0)
    }

    @Test(arguments: [0, 1, 4, 8, 12, 16])
    func solvedNonceMeetsTheDifficultyAndIsTheFirstThatDoes(bits: Int) {
        let prefix = "crowd-test-\(bits)-"
        let nonce = ProofOfWork.solve(prefix: prefix, difficultyBits: bits)
        #expect(ProofOfWork.verify(prefix: prefix, nonce: nonce, difficultyBits: bits))
        // Checked against a plain hash of the concatenation, as the server will check it.
        let digest = SHA256.hash(data: Data((prefix + nonce).utf8))
        #expect(ProofOfWork.leadingZeroBits(digest) >= bits)
        let value = UInt64(nonce)!
        for earlier in UInt64(0)..<min(value, 2_000) {
            #expect(!ProofOfWork.verify(prefix: prefix, nonce: String(earlier), difficultyBits: bits))
        }
    }

    @Test func anAbandonedSolveStopsAtItsNextCheck() {
        var checks = 0
        let nonce = ProofOfWork.solve(prefix: "p", difficultyBits: 64, checkEvery: 16) {
            checks += 1
            return checks == 3
        }
        #expect(nonce == nil && checks == 3)
    }
}
