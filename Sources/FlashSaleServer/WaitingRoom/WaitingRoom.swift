import FlashSaleCore
import FlashSaleStore
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// This node's waiting room: reads and signs passes and keeps one admission controller
/// per sale. It holds nothing per waiting shopper.
final class WaitingRoom: Sendable {
    static let passHeader = HTTPField.Name("X-Queue-Pass")!
    static let passCookie = "queue_pass"

    let signer: PassSigner
    /// This node's share of every sale's rate and the other nodes' lines: fixed by
    /// `--node-count`, or learnt at every heartbeat (`follow(_:)`).
    private let cluster: Mutex<(share: Double, peers: [UUID: [NodeLine]])>
    private let maxNoShowFactor: Double
    /// Units available right now on this node (the inventory engine's gate, which every
    /// commit here updates), rather than the storefront cache's count, up to 250 ms old:
    /// a shopper must not be admitted for a unit reserved a moment ago.
    private let liveAvailable: @Sendable (UUID) -> Int?
    private let controllers = Mutex<[UUID: AdmissionController]>([:])
    private let secret: String
    private let lotteries = Mutex<[UUID: Lottery]>([:])
    let clock: @Sendable () -> Date
    private let started = ContinuousClock.now

    init(
        secret: String, nodeCount: Int, maxNoShowFactor: Double = NoShowCompensation.defaultMaxFactor,
        liveAvailable: @escaping @Sendable (UUID) -> Int? = { _ in nil }, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        signer = PassSigner(secret: secret)
        self.secret = secret
        cluster = Mutex((ClusterAdmission.share(liveNodes: nodeCount), [:]))
        self.maxNoShowFactor = maxNoShowFactor
        self.liveAvailable = liveAvailable
        self.clock = clock
    }

    /// The request's pass for `sale` if it is genuine, for this sale and not expired: the
    /// header first, then the sale's own cookie, then the shared `queue_pass` cookie.
    func pass(in request: Request, sale: Sale, now: Date) -> QueuePass? {
        for token in Self.tokens(in: request, saleID: sale.id) {
            guard let pass = signer.verify(token), pass.saleID == sale.id else { continue }
            if let until = pass.admittedUntil(ttlSeconds: sale.reservationTTLSeconds), now > until { continue }
            return pass
        }
        return nil
    }

    /// Answers a join (`incoming` nil) or a poll with a pass already verified at `now`;
    /// `mayAdmit` false for a pass polling sooner than it was told (`AdmissionController`).
    func answer(pass incoming: QueuePass?, sale cached: Sale, now: Date, mayAdmit: Bool = true) -> QueueAnswer {
        let sale = cached.withLiveAvailable(liveAvailable(cached.id))
        let seconds = monotonicSeconds
        let drawn =
            if let incoming {
                !incoming.isAdmitted
                    && Lottery.isDrawnForAnotherOpening(firstArrival: incoming.firstArrival, startsAt: sale.startsAt, now: now)
            } else {
                now < sale.startsAt
            }
        let lottery = drawn ? lottery(for: sale.id) : nil
        return controllers.withLock { controllers in
            var controller = controllers[sale.id] ?? newController(for: sale)
            defer { controllers[sale.id] = controller }
            return controller.answer(
                pass: incoming, sale: sale, now: now, monotonicSeconds: seconds, lottery: lottery, mayAdmit: mayAdmit,
                newVisitor: { UUID.timeOrdered() })
        }
    }

    /// Nodes sharing each sale's rate, this one included (`--node-count`, or the live count).
    var nodes: Int { cluster.withLock { Int((1 / $0.share).rounded()) } }

    /// A sale's first controller on this node, at this node's share and within the other
    /// nodes' bounds: a node restarted mid-sale catches up with their thresholds.
    private func newController(for sale: Sale) -> AdmissionController {
        let (share, peers) = cluster.withLock { ($0.share, $0.peers[sale.id] ?? []) }
        var controller = AdmissionController(
            admissionRatePerSecond: sale.admissionRatePerSecond, nodeShare: share, maxNoShowFactor: maxNoShowFactor)
        controller.follow(nodeShare: share, bounds: ClusterAdmission.bounds(peers: peers))
        return controller
    }

    /// Takes up what a heartbeat learnt: the live nodes' count sets every sale's share, and
    /// the other nodes' lines bound each sale's threshold. Nil (the store did not answer)
    /// keeps the share and drops the bounds: lines that can no longer be refreshed would
    /// hold the threshold back.
    func follow(_ view: ClusterView?) {
        let (share, peers) = cluster.withLock { state in
            if let view {
                state.share = ClusterAdmission.share(liveNodes: view.liveNodes)
                state.peers = Dictionary(grouping: view.peerLines, by: \.saleID)
            } else {
                state.peers = [:]
            }
            return (state.share, state.peers)
        }
        controllers.withLock { controllers in
            for id in controllers.keys {
                controllers[id]?.follow(nodeShare: share, bounds: ClusterAdmission.bounds(peers: peers[id] ?? []))
            }
        }
    }

    /// This node's line of every sale it has answered, as the other nodes are told it.
    func lines(nodeID: UUID, now: Date) -> [NodeLine] {
        let seconds = monotonicSeconds
        return controllers.withLock { controllers in
            controllers.map { id, controller in controller.line(nodeID: nodeID, saleID: id, now: now, monotonicSeconds: seconds) }
        }
    }

    /// Seconds since this waiting room started: the controllers' monotonic clock.
    private var monotonicSeconds: Double { (ContinuousClock.now - started).seconds }

    /// An admitted pass reserved: its admission converted (the no-show factor learns it).
    func reserved(pass: QueuePass, saleID: UUID, now: Date) {
        guard let admittedAt = pass.admittedAt else { return }
        let seconds = monotonicSeconds
        controllers.withLock { controllers in
            controllers[saleID]?.reserved(admittedAt: admittedAt, now: now, monotonicSeconds: seconds)
        }
    }

    /// The sale's early-bird draw (derived from the shared secret: alike on every node).
    func lottery(for saleID: UUID) -> Lottery {
        lotteries.withLock { lotteries in
            if let lottery = lotteries[saleID] { return lottery }
            let lottery = Lottery(secret: secret, saleID: saleID)
            lotteries[saleID] = lottery
            return lottery
        }
    }

    /// The line for `sale` across the deployment: this node's (all zero before anyone joined
    /// it here) plus the other nodes' as their last heartbeats told, with the rate of this
    /// copy of the sale (the one its next answer applies) and this node's share of it.
    /// `acrossNodes` false: this node's alone (its metrics, which Prometheus sums).
    func figures(for sale: Sale, now: Date, acrossNodes: Bool = true) -> QueueFigures {
        var figures =
            controllers.withLock { [seconds = monotonicSeconds] in $0[sale.id]?.figures(now: now, monotonicSeconds: seconds) }
            ?? QueueFigures(admissionRatePerSecond: 0, nodeRatePerSecond: 0)
        let (share, peers) = cluster.withLock { ($0.share, $0.peers[sale.id] ?? []) }
        if acrossNodes { figures = ClusterAdmission.combined(figures, peers: peers) }
        figures.admissionRatePerSecond = sale.admissionRatePerSecond
        figures.nodeRatePerSecond = Double(sale.admissionRatePerSecond) * share
        return figures
    }

    /// The JSON body and headers of an answer: the pass in the body and in a cookie.
    func response(for answer: QueueAnswer, sale: Sale) throws -> Response {
        let token = signer.sign(answer.pass)
        return JSONResponse.make(status: .ok, body: QueueView(answer: answer, token: token).json, headers: passHeaders(token: token, sale: sale))
    }

    /// A join's proof-of-work challenge (API.md, "Waiting room"): the signed challenge is
    /// both the prefix and the pass, so a client that sends back its pass, as every client
    /// does, brings the challenge with its proof.
    func response(for issued: JoinChallenges.Issued, sale: Sale) -> Response {
        let text =
            #"{"challenge":{"algorithm":"sha256","difficulty_bits":\#(issued.difficultyBits),"prefix":"\#(issued.token)"},"#
            + #""pass":"\#(issued.token)","poll_after_ms":0,"status":"challenge"}"#
        return JSONResponse.make(status: .ok, body: Data(text.utf8), headers: challengeHeaders(token: issued.token, sale: sale))
    }

    /// The pass cookies carrying a challenge, kept as long as the challenge lives.
    func challengeHeaders(token: String, sale: Sale) -> HTTPFields {
        passHeaders(token: token, sale: sale, maxAge: Int(Challenge.lifetime))
    }

    /// `Set-Cookie` for the pass, twice: the contract's `queue_pass`, and a copy named after
    /// the sale, so a browser waiting in two sales at once keeps its place in both.
    func passHeaders(token: String, sale: Sale, maxAge: Int? = nil) -> HTTPFields {
        let maxAge = maxAge ?? max(0, Int(sale.endsAt.timeIntervalSince(clock())) + 3600)
        let attributes = "Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Lax"
        var headers: HTTPFields = [:]
        headers.append(HTTPField(name: .setCookie, value: "\(Self.passCookie)=\(token); \(attributes)"))
        headers.append(HTTPField(name: .setCookie, value: "\(Self.saleCookie(sale.id))=\(token); \(attributes)"))
        headers[.cacheControl] = "no-store"
        return headers
    }

    /// `queue_pass_<sale id without dashes>`.
    static func saleCookie(_ saleID: UUID) -> String {
        passCookie + "_" + String(saleID.lowercased.filter { $0 != "-" })
    }

    /// Candidate tokens in the order they are trusted: header, the sale's cookie, `queue_pass`.
    static func tokens(in request: Request, saleID: UUID) -> [String] {
        var own: [String] = []
        var shared: [String] = []
        let saleName = saleCookie(saleID)
        for cookieHeader in request.headers[values: .cookie] {
            for pair in cookieHeader.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let name = parts[0].trimmingCharacters(in: .whitespaces)
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                if name == saleName { own.append(value) } else if name == passCookie { shared.append(value) }
            }
        }
        let header = request.headers[passHeader].flatMap { $0.isEmpty ? nil : [$0] } ?? []
        return header + own + shared
    }
}

/// The join/poll body of API.md, written by hand: it is the hottest response of a sale
/// (every waiting shopper, every few seconds), and every value in it is a number, an
/// enum, an RFC 3339 instant or base64url, so nothing needs escaping.
struct QueueView {
    let answer: QueueAnswer
    let token: String

    var json: Data {
        func number(_ value: Int?) -> String { value.map(String.init) ?? "null" }
        let until = answer.admittedUntil.map { "\"\(Timestamp.format($0))\"" } ?? "null"
        let text =
            #"{"admitted_until":\#(until),"available":\#(answer.available),"eta_seconds":\#(number(answer.etaSeconds)),"#
            + #""pass":"\#(token)","poll_after_ms":\#(answer.pollAfterMs),"position":\#(number(answer.position)),"#
            + #""status":"\#(answer.status.rawValue)"}"#
        return Data(text.utf8)
    }
}
