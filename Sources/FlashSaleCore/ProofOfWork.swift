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

    /// The first decimal nonce from 0 upwards that answers the challenge. Each try
    /// succeeds with probability 2^-bits, so 18 bits take about 262,000 hashes; the hasher
    /// is fed the prefix once and copied per try, and the nonce's digits are written into
    /// a reused buffer, so a try allocates nothing.
    public static func solve(prefix: String, difficultyBits: Int) -> String {
        solve(prefix: prefix, difficultyBits: difficultyBits, abandoned: { false })!
    }

    /// `solve`, asking `abandoned` every `checkEvery` tries; nil once it says stop.
    public static func solve(prefix: String, difficultyBits: Int, checkEvery: UInt64 = 4_096, abandoned: () -> Bool) -> String? {
        var seeded = SHA256()
        seeded.update(data: Data(prefix.utf8))
        var digits = [UInt8](repeating: 0, count: 20)
        var nonce: UInt64 = 0
        while true {
            for _ in 0..<checkEvery {
                // The decimal text of the nonce, written at the end of `digits`.
                var start = digits.count
                var rest = nonce
                repeat {
                    start -= 1
                    digits[start] = 0x30 + UInt8(rest % 10)
                    rest /= 10
                } while rest > 0
                var hasher = seeded
                digits.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[start...])) }
                if leadingZeroBits(hasher.finalize()) >= difficultyBits {
                    return String(decoding: digits[start...], as: UTF8.self)
                }
                nonce &+= 1
            }
            if abandoned() { return nil }
        }
    }
}
