import ArgumentParser
import FlashSaleLoad
import Foundation

/// `flashsale crowd`: plays a whole sale against a running server with virtual shoppers
/// and reports latencies, fairness and the correctness checks (docs/CROWD.md).
struct Crowd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play a whole sale against a running server with a crowd of virtual shoppers, then report.")

    @Option(
        help: ArgumentHelp(
            "Base URL of the running server; repeat it (or list them with commas) for several nodes.",
            discussion: "Each request goes to the next node in turn, whoever the shopper is, and one that cannot connect "
                + "is sent at once to the next, as a load balancer without stickiness would."))
    var url: [String] = ["http://127.0.0.1:8080"]
    @Option(help: "Admin token of that server.") var adminToken: String
    @Option(help: "Virtual shoppers.") var shoppers = 5_000
    @Option(help: "Play this existing sale instead of creating one.") var sale: String?
    @Option(help: "Units of the created sale.") var quantity = 200
    @Option(help: "Admission rate per second of the created sale.") var rate = 50
    @Option(help: "Seconds from now until the created sale opens.") var startsIn = 5.0
    @Option(help: "reservation_ttl_seconds of the created sale (short, so the undersell check need not wait long).")
    var reservationTtl = 30
    @Option(help: "Concurrent requests in flight at most (and HTTP connections).") var connections = 128
    @Option(help: "Share of shoppers arriving in the spike at the opening.") var spikeShare = 0.7
    @Option(help: "Length of the spike, seconds.") var spikeSeconds = 2.0
    @Option(help: "Length of the tail after the spike, seconds.") var tailSeconds = 20.0
    @Option(help: "Seconds before the opening from which spike shoppers may already arrive.") var earlySeconds = 0.0
    @Option(help: "Share of shoppers who give up waiting (after 5–60 s).") var abandonQueue = 0.1
    @Option(help: "Share of admitted shoppers who never reserve.") var abandonAdmitted = 0.05
    @Option(help: "Share of shoppers holding a reservation who pay (0 turns payment off).") var payShare = 0.9
    @Option(help: "Of those who do not pay, the share who cancel rather than let the hold expire.") var cancelShare = 0.5
    @Option(help: "Share of payers whose first card is declined (they retry with another card).") var declinedShare = 0.08
    @Option(help: "Share of payers whose card lacks funds (they give up).") var insufficientShare = 0.02
    @Option(help: "Share of clients that ignore poll_after_ms.") var aggressiveShare = 0.05
    @Option(help: "Poll interval of those aggressive clients, milliseconds.") var aggressivePollMs = 100
    @Option(help: "Longest think time between checkout steps, seconds.") var thinkSeconds = 1.0
    @Option(help: "Shortest think time between checkout steps, seconds.") var minThinkSeconds = 0.0
    @Option(help: "Seed of every random draw (arrivals, choices, cards).") var seed: UInt64 = 1
    @Option(help: "Base URL of the payment provider; its ledger is reconciled (double-charge check).") var psp: String?
    @Option(help: "Stop the crowd this many seconds after the opening.") var maxSeconds = 600.0
    @Option(help: "Write the report as JSON to this file.") var json: String?
    @Flag(help: "Each client claims an address of its own in X-Forwarded-For (serve with --trusted-proxy for the crowd's address).")
    var forwardedAddresses = false
    @Option(help: "Honest shoppers sharing one office NAT address (needs --forwarded-addresses).") var natShoppers = 0
    @Option(help: "Addresses of the reseller farm in one /24; 0: no farm (needs --forwarded-addresses).") var farmAddresses = 0
    @Option(help: "Passes the farm asks for in all, round-robin over its addresses.") var farmJoins = 1_000
    @Option(help: "The farm starts joining this many seconds before the opening …") var farmEarlySeconds = 1.0
    @Option(help: "… and paces its joins over this many seconds.") var farmJoinSeconds = 3.0
    @Option(help: "A farm bot polls this often, milliseconds, whatever poll_after_ms says.") var farmPollMs = 250
    @Option(help: "Milliseconds from a farm bot's admission to its reservation.") var farmReserveDelayMs = 50
    @Option(help: "Drop addresses the farm ships to, jigged per order.") var farmDropAddresses = 3
    @Option(help: "Threads solving the farm's proof of work.") var farmSolvers = 1

    func validate() throws {
        if let problem = config.problem { throw ValidationError(problem) }
        if thinkSeconds < minThinkSeconds { throw ValidationError("--min-think-seconds must not exceed --think-seconds") }
    }

    private var config: CrowdConfig {
        var config = CrowdConfig(baseURLs: url, adminToken: adminToken, shoppers: shoppers)
        config.saleID = sale
        config.quantity = quantity
        config.ratePerSecond = rate
        config.startsInSeconds = startsIn
        config.reservationTTLSeconds = reservationTtl
        config.connections = connections
        config.curve = ArrivalCurve(spikeShare: spikeShare, spikeSeconds: spikeSeconds, tailSeconds: tailSeconds, earlySeconds: earlySeconds)
        config.profile = CrowdProfile(
            abandonQueue: abandonQueue, abandonAdmitted: abandonAdmitted, payShare: payShare, cancelShare: cancelShare,
            declinedShare: declinedShare, insufficientShare: insufficientShare, aggressiveShare: aggressiveShare,
            aggressivePollMs: aggressivePollMs, thinkSeconds: max(minThinkSeconds, 0)...max(thinkSeconds, minThinkSeconds, 0))
        config.seed = seed
        config.pspURL = psp
        config.maxSeconds = maxSeconds
        config.forwardedAddresses = forwardedAddresses
        config.natShoppers = natShoppers
        config.farm.addresses = farmAddresses
        config.farm.joins = farmJoins
        config.farm.earlySeconds = farmEarlySeconds
        config.farm.joinSeconds = farmJoinSeconds
        config.farm.pollMs = farmPollMs
        config.farm.reserveDelayMs = farmReserveDelayMs
        config.farm.dropAddresses = farmDropAddresses
        config.farm.solvers = farmSolvers
        return config
    }

    func run() async throws {
        let live = LiveView.terminal()
        let report = try await CrowdRun(config).run(progress: live)
        if live != nil { print("") }
        print(report.text)
        if let json {
            try CrowdReport.encoder().encode(report).write(to: URL(fileURLWithPath: json))
        }
        // 2, not 1: a failed check must not read like a run that could not start (1).
        if !report.passed { throw ExitCode(2) }
    }
}
