import ArgumentParser
import FlashSaleCore
import Foundation

/// `flashsale bench pow`: what each proof-of-work level costs the crowd's Swift solver
/// (`ProofOfWork.solve`, one thread), the figure beside Chromium's in BENCHMARKS.md.
struct ProofOfWorkBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pow", abstract: "Solve times per proof-of-work level with the crowd's solver (one thread).")

    @Option(help: "Challenges per level.") var runs = 15
    @Option(help: "Highest level measured (the top levels take minutes per challenge).") var maxLevel = 4

    func run() throws {
        let levels = ChallengeLevels.standard
        guard (1..<levels.bits.count).contains(maxLevel), runs >= 1 else {
            throw ValidationError("--max-level must be 1…\(levels.bits.count - 1) and --runs ≥ 1")
        }
        let signer = ChallengeSigner(secret: "bench")
        print("level  bits  median ms  p95 ms  Mhash/s")
        for level in 1...maxLevel {
            let bits = levels.difficultyBits(level: level)
            var times: [Double] = []
            var hashes = 0.0
            for _ in 0..<runs {
                // A real challenge token as the prefix: its length sets the blocks per try.
                let prefix = signer.sign(Challenge(saleID: UUID(), client: [203, 0, 113, 7], difficultyBits: bits, issuedAt: Date()))
                let start = ContinuousClock.now
                let nonce = ProofOfWork.solve(prefix: prefix, difficultyBits: bits)
                times.append((ContinuousClock.now - start).seconds * 1000)
                hashes += Double(UInt64(nonce)! + 1)
            }
            times.sort()
            let median = times[times.count / 2]
            let p95 = times[min(times.count - 1, Int((Double(times.count) * 0.95).rounded(.up)) - 1)]
            let rate = hashes / (times.reduce(0, +) / 1000) / 1e6
            print(String(format: "%5d  %4d  %9.1f  %6.1f  %7.2f", level, bits, median, p95, rate))
        }
    }
}

