import AsyncHTTPClient
import FlashSaleBench
import FlashSaleCore
import Foundation

/// Plays a whole sale against a running server: sets up (or looks up) the sale, lets the
/// crowd arrive along its curve, then reads the server's stats back once held units have
/// had time to expire, reconciles the provider's ledger, and builds the report.
public struct CrowdRun: Sendable {
    public let config: CrowdConfig

    public init(_ config: CrowdConfig) { self.config = config }

    /// Arrivals closer than this are not ordered: the contract orders shoppers "within the
    /// resolution of one poll interval", and 1 s is the poll interval of a patient client.
    static let arrivalResolution = 1.0
    /// The least observation lag granted to any admission: the shortest poll interval the
    /// contract allows (250 ms), which also covers the clocks' and the network's jitter.
    static let admissionTolerance = 0.25

    private enum Finished: Sendable {
        case shopper(ShopperResult)
        case bot(BotResult)
        case deadline
        case liveView
    }

    public struct SetupError: Error, CustomStringConvertible {
        public let description: String
    }

    /// - Parameter progress: called about once a second with the elapsed seconds, the
    ///   counters and the request rate of the last second (for the live view).
    public func run(progress: (@Sendable (Double, LiveSnapshot, Double) -> Void)? = nil) async throws -> CrowdReport {
        if let problem = config.problem { throw SetupError(description: problem) }
        let farmProfile = config.farm.enabled ? config.farm : nil
        // The farm brings its own connections (and counters): its requests neither queue
        // behind the honest crowd's in this process nor count in the honest figures.
        // Over several nodes a dead node's requests go to the next at once (`NodeRotation`),
        // not after the connect timeout.
        let nodes = NodeRotation(config.baseURLs)
        return try await withBenchClient(
            connections: config.connections * (farmProfile == nil ? 1 : 2), retryConnects: nodes.urls.count == 1
        ) { http in
            let metrics = CrowdMetrics()
            let client = CrowdClient(http: http, nodes: nodes, limiter: AsyncLimiter(limit: config.connections), metrics: metrics)
            let farmClient = CrowdClient(
                http: http, nodes: nodes, limiter: AsyncLimiter(limit: config.connections), metrics: CrowdMetrics())
            let solver = ProofOfWorkSolver(threads: config.honestSolvers, order: .arrival)
            let farmSolver = ProofOfWorkSolver(threads: farmProfile == nil ? 0 : config.farm.solvers, order: .cheapestFirst, niceness: 10)
            defer {
                solver.shutdown()
                farmSolver.shutdown()
            }
            let admin = SaleAdmin(client: client, token: config.adminToken)
            let sale: ShopWire.Sale
            if let id = config.saleID { sale = try await admin.sale(id) } else { sale = try await admin.create(config) }
            guard let opensAt = Timestamp.parse(sale.startsAt) else { throw SetupError(description: "bad starts_at \(sale.startsAt)") }
            // A sale that is already open is played from now: the crowd arrives as if it opened now.
            let opening = ContinuousClock.now + .seconds(max(opensAt.timeIntervalSinceNow, 0))
            let started = ContinuousClock.now

            var generator = SplitMix64(seed: config.seed)
            let arrivals = config.curve.offsets(count: config.shoppers, using: &generator)
            let plans = arrivals.map { _ in ShopperPlan.draw(config.profile, using: &generator) }
            let runTag = String(UUID().uuidString.prefix(8)).lowercased()
            let addresses =
                config.forwardedAddresses
                ? CrowdAddresses(shoppers: config.shoppers, natShoppers: config.natShoppers, farmAddresses: config.farm.addresses) : nil
            let context = ShopperContext(
                client: client, saleID: sale.id, runTag: runTag, opening: opening, aggressivePollMs: config.profile.aggressivePollMs,
                addresses: addresses, solver: solver)
            let farm = farmProfile.map { profile in
                FarmContext(
                    client: farmClient, saleID: sale.id, runTag: runTag, opening: opening, profile: profile, addresses: addresses!,
                    drops: FarmDisguise.dropAddresses(profile.dropAddresses), solver: farmSolver, seed: config.seed)
            }

            let deadline = opening + .seconds(config.maxSeconds)
            let (results, bots) = await withTaskGroup(of: Finished.self) { group in
                group.addTask {
                    await LiveView.tick(metrics: metrics, since: started, progress: progress)
                    return .liveView
                }
                group.addTask {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    return .deadline
                }
                for index in arrivals.indices {
                    let shopper = Shopper(index: index, arrival: arrivals[index], plan: plans[index], context: context)
                    group.addTask { .shopper(await shopper.visit()) }
                }
                let botCount = farm?.profile.joins ?? 0
                if let farm {
                    for index in 0..<botCount {
                        let bot = FarmBot(index: index, context: farm)
                        group.addTask { .bot(await bot.play()) }
                    }
                }
                var results: [ShopperResult] = []
                var bots: [BotResult] = []
                results.reserveCapacity(arrivals.count)
                while let finished = await group.next() {
                    switch finished {
                    case .shopper(let result):
                        results.append(result)
                        // The honest crowd is done: nothing the farm could still get is contested.
                        if results.count == arrivals.count { farm?.stop() }
                    case .bot(let result):
                        bots.append(result)
                    case .deadline:
                        // Time is up: everyone still in the shop stops (and counts as cut off).
                        group.cancelAll()
                    case .liveView:
                        break
                    }
                    if results.count == arrivals.count && bots.count == botCount { group.cancelAll() }
                }
                return (results, bots)
            }
            let crowdSeconds = (ContinuousClock.now - started).seconds

            let ttl = sale.reservationTTLSeconds ?? config.reservationTTLSeconds
            let (stats, settled) = await admin.settledStats(sale.id, within: Double(ttl) + config.settleGraceSeconds)
            var ledger: LedgerSummary?
            if let psp = config.pspURL { ledger = try await admin.ledger(psp) }
            // The farm's orders are orders too: the oversell check counts them.
            let paidOrders = Set(results.compactMap(\.paidOrder) + bots.compactMap(\.paidOrder)).count
            var outcomes: [String: Int] = [:]
            for result in results { outcomes[result.exit.rawValue, default: 0] += 1 }
            let entries = results.compactMap { result -> Fairness.Entry? in
                // Still waiting when the run was cut off counts as waiting to the end.
                let waitedToEnd = result.joined && [ShopperExit.soldOutInQueue, .ended, .cutOff].contains(result.exit)
                guard result.admitted != nil || waitedToEnd else { return nil }
                return Fairness.Entry(arrival: max(result.arrival, 0), admitted: result.admitted, lag: result.admissionLag)
            }
            let endpoints = metrics.summaries()
            let solves = results.flatMap(\.solves)
            return CrowdReport(
                saleID: sale.id, quantity: sale.quantity, shoppers: config.shoppers, durationSeconds: crowdSeconds,
                admissionRate: sale.admissionRatePerSecond ?? config.ratePerSecond, outcomes: outcomes, endpoints: endpoints,
                admissionTimes: results.compactMap(\.admitted) + bots.compactMap(\.admitted),
                fairness: Fairness.measure(entries, tolerance: Self.admissionTolerance, arrivalResolution: Self.arrivalResolution), paidOrdersSeen: paidOrders,
                errors: metrics.errors.load(ordering: .relaxed), connectionFailures: metrics.connectionFailures.load(ordering: .relaxed),
                reservations: results.compactMap(\.checkout).sorted { $0.reservedAt < $1.reservedAt }, stats: stats, ledger: ledger,
                checks: CorrectnessChecks.evaluate(
                    quantity: sale.quantity, stats: stats, paidSeen: paidOrders, settled: settled, ledger: ledger),
                proofOfWork: SolveTimes(bits: solves.map(\.bits), seconds: solves.map(\.seconds), hashingSeconds: solves.map(\.hashingSeconds)),
                honest: addresses == nil
                    ? nil
                    : HonestSummary(
                        results: results, tooManyRequests: endpoints.reduce(0) { sum, e in sum + e.count { $0 == 429 } },
                        serverErrors: endpoints.reduce(0) { sum, e in sum + e.count { $0 >= 500 } }),
                farm: farm.map {
                    FarmSummary(
                        profile: $0.profile, results: bots, endpoints: $0.client.metrics.summaries(),
                        errors: $0.client.metrics.errors.load(ordering: .relaxed))
                })
        }
    }
}
