import Crypto
import Foundation

/// The waiting room's proof-of-work challenge, solved as a client must: find a nonce such
/// that `sha256(prefix + nonce)` starts with `difficultyBits` zero bits.
public enum ProofOfWork {
    /// Leading zero bits of a digest, most significant bit of the first byte first.
    public static func leadingZeroBits<D: Sequence>(_ digest: D) -> Int where D.Element == UInt8 {
        var bits = 0
        for byte in digest {
            if byte == 0 {
                bits += 8
                continue
            }
            return bits + byte.leadingZeroBitCount
        }
        return bits
    }

    /// Whether `nonce` answers the challenge.
    public static func verify(prefix: String, nonce: String, difficultyBits: Int) -> Bool {
        leadingZeroBits(SHA256.hash(data: Data((prefix + nonce).utf8))) >= difficultyBits
    }

    /// The first decimal nonce from `start` upwards that answers the challenge. Each try
    /// succeeds with probability 2^-bits, so 18 bits take about 262,000 hashes; the hasher
    /// is fed the prefix once and copied per try, which halves the work for long prefixes.
    public static func solve(prefix: String, difficultyBits: Int, startingAt start: UInt64 = 0) -> String {
        var seeded = SHA256()
        seeded.update(data: Data(prefix.utf8))
        var nonce = start
        while true {
            let text = String(nonce)
            var hasher = seeded
            hasher.update(data: Data(text.utf8))
            if leadingZeroBits(hasher.finalize()) >= difficultyBits { return text }
            nonce &+= 1
        }
    }
}
