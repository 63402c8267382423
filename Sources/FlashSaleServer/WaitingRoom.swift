import FlashSaleCore
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
    private let nodeShare: Double
    private let stockFactor: Double
    private let controllers = Mutex<[UUID: AdmissionController]>([:])
    private let secret: String
    private let lotteries = Mutex<[UUID: Lottery]>([:])
    private let clock: @Sendable () -> Date
    private let started = ContinuousClock.now

    init(secret: String, nodeCount: Int, stockFactor: Double = 1.5, clock: @escaping @Sendable () -> Date = { Date() }) {
        signer = PassSigner(secret: secret)
        self.secret = secret
        nodeShare = 1 / Double(nodeCount)
        self.stockFactor = stockFactor
        self.clock = clock
    }

    /// The request's pass for `sale` if it is genuine, for this sale and not expired.
    func pass(in request: Request, sale: Sale, now: Date) -> QueuePass? {
        guard let token = Self.token(in: request), let pass = signer.verify(token), pass.saleID == sale.id else {
            return nil
        }
        if let until = pass.admittedUntil(ttlSeconds: sale.reservationTTLSeconds), now > until { return nil }
        return pass
    }

    /// Answers a join or poll for `sale`.
    func answer(request: Request, sale: Sale) -> QueueAnswer {
        let now = clock()
        let incoming = pass(in: request, sale: sale, now: now)
        let seconds = (ContinuousClock.now - started).seconds
        let lottery = incoming == nil && now < sale.startsAt ? lottery(for: sale.id) : nil
        return controllers.withLock { controllers in
            var controller = controllers[sale.id]
                ?? AdmissionController(
                    admissionRatePerSecond: sale.admissionRatePerSecond, nodeShare: nodeShare, stockFactor: stockFactor)
            defer { controllers[sale.id] = controller }
            return controller.answer(
                pass: incoming, sale: sale, now: now, monotonicSeconds: seconds, lottery: lottery,
                newVisitor: { UUID.timeOrdered() })
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

    func counters(saleID: UUID) -> (joined: Int, admitted: Int, threshold: Date?) {
        controllers.withLock { controllers in
            controllers[saleID].map { ($0.joined, $0.admitted, $0.threshold) } ?? (0, 0, nil)
        }
    }

    /// The JSON body and headers of an answer: the pass in the body and in a cookie.
    func response(for answer: QueueAnswer, sale: Sale) throws -> Response {
        let token = signer.sign(answer.pass)
        let body = QueueView(answer: answer, token: token)
        let maxAge = max(0, Int(sale.endsAt.timeIntervalSince(clock())) + 3600)
        var headers: HTTPFields = [:]
        headers[.setCookie] = "\(Self.passCookie)=\(token); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Lax"
        headers[.cacheControl] = "no-store"
        return try JSONResponse.encode(body, headers: headers)
    }

    static func token(in request: Request) -> String? {
        if let header = request.headers[passHeader], !header.isEmpty { return header }
        for cookieHeader in request.headers[values: .cookie] {
            for pair in cookieHeader.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == passCookie {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }
}

/// The join/poll body of API.md.
struct QueueView: Encodable {
    let answer: QueueAnswer
    let token: String

    enum CodingKeys: String, CodingKey {
        case status, pass, position, etaSeconds = "eta_seconds", pollAfterMs = "poll_after_ms", available
        case admittedUntil = "admitted_until"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(answer.status.rawValue, forKey: .status)
        try c.encode(token, forKey: .pass)
        try c.encode(answer.position, forKey: .position)
        try c.encode(answer.etaSeconds, forKey: .etaSeconds)
        try c.encode(answer.pollAfterMs, forKey: .pollAfterMs)
        try c.encode(answer.available, forKey: .available)
        try c.encode(answer.admittedUntil, forKey: .admittedUntil)
    }
}
