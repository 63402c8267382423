/// The bodies of the public contract the crowd reads (API.md), decoded leniently: every
/// field a shopper does not strictly need is optional, so that a server adding fields or
/// answering an error body never breaks the simulator.
public enum ShopWire {
    /// `POST`/`GET /api/v1/sales/{id}/queue`.
    public struct QueueAnswer: Sendable, Decodable, Equatable {
        public var status: String
        public var pass: String?
        public var position: Int?
        public var pollAfterMs: Int?
        public var challenge: Challenge?

        public init(status: String, pass: String? = nil, position: Int? = nil, pollAfterMs: Int? = nil, challenge: Challenge? = nil) {
            self.status = status
            self.pass = pass
            self.position = position
            self.pollAfterMs = pollAfterMs
            self.challenge = challenge
        }

        enum CodingKeys: String, CodingKey {
            case status, pass, position, pollAfterMs = "poll_after_ms", challenge
        }
    }

    public struct Challenge: Sendable, Decodable, Equatable {
        public var algorithm: String
        public var prefix: String
        public var difficultyBits: Int

        public init(algorithm: String = "sha256", prefix: String, difficultyBits: Int) {
            self.algorithm = algorithm
            self.prefix = prefix
            self.difficultyBits = difficultyBits
        }

        enum CodingKeys: String, CodingKey { case algorithm, prefix, difficultyBits = "difficulty_bits" }
    }

    /// 201 of `POST /api/v1/sales/{id}/reservations`.
    public struct Reservation: Sendable, Decodable {
        public var reservationID: String
        enum CodingKeys: String, CodingKey { case reservationID = "reservation_id" }
    }

    /// 201 of `POST /api/v1/reservations/{id}/payment`.
    public struct Order: Sendable, Decodable {
        public var orderID: String
        enum CodingKeys: String, CodingKey { case orderID = "order_id" }
    }

    /// `GET /api/v1/admin/sales/{id}/stats`.
    public struct Stats: Sendable, Codable, Equatable {
        public var quantity: Int
        public var available: Int
        public var reserved: Int
        public var sold: Int
        public var orders: Int?

        public init(quantity: Int, available: Int, reserved: Int, sold: Int, orders: Int? = nil) {
            self.quantity = quantity
            self.available = available
            self.reserved = reserved
            self.sold = sold
            self.orders = orders
        }
    }

    /// The sale object (admin or public); only what the crowd needs.
    public struct Sale: Sendable, Decodable {
        public var id: String
        public var quantity: Int
        public var startsAt: String
        public var reservationTTLSeconds: Int?
        public var admissionRatePerSecond: Int?
        enum CodingKeys: String, CodingKey {
            case id, quantity, startsAt = "starts_at", reservationTTLSeconds = "reservation_ttl_seconds"
            case admissionRatePerSecond = "admission_rate_per_second"
        }
    }
}
