import Foundation

/// One operator action, as the audit record keeps it: what was done, to what, by whom and
/// when, with the API views of the thing before and after (nil where there was none: no
/// `before` for a sale just created, no `after` for a rule removed).
public struct AuditEntry: Sendable, Equatable {
    /// The actions recorded, by their dotted names.
    public enum Action: String, Sendable, CaseIterable, Codable {
        case saleCreated = "sale.created"
        case saleUpdated = "sale.updated"
        /// A rule put on the block or allow list (or a rule there replaced); the list is in `after`.
        case accessRuleAdded = "access_rule.added"
        /// A rule taken off the block or allow list; the list is in `before`.
        case accessRuleRemoved = "access_rule.removed"
        case orderCancelled = "order.cancelled"
    }

    /// How the operator proved who they were.
    public struct Actor: RawRepresentable, Sendable, Hashable, Codable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// `Authorization: Bearer <admin token>`.
        public static let adminToken = Actor(rawValue: "admin_token")
        /// A signed-in session of the dashboard.
        public static let console = Actor(rawValue: "console")
    }

    /// Given by the store, increasing in the order entries were appended; 0 until stored.
    public var id: Int64
    public var at: Date
    public var action: Action
    /// What the action was done to: a sale id, a CIDR, an order id.
    public var subject: String
    /// The sale concerned, where there is one (sales and orders; not access rules).
    public var saleID: UUID?
    public var actor: Actor
    public var before: JSONObject?
    public var after: JSONObject?

    public init(
        id: Int64 = 0, at: Date, action: Action, subject: String, saleID: UUID? = nil, actor: Actor, before: JSONObject? = nil,
        after: JSONObject? = nil
    ) {
        self.id = id
        self.at = at
        self.action = action
        self.subject = subject
        self.saleID = saleID
        self.actor = actor
        self.before = before
        self.after = after
    }
}

public typealias JSONObject = [String: JSONValue]

/// Any JSON value, for documents the server keeps as it was given them (the audit's views).
/// Whole numbers stay whole (`Int64`), so an amount in cents reads back as it was written.
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let value = try? c.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? c.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? c.decode(Double.self) {
            self = .number(value)
        } else if let value = try? c.decode(String.self) {
            self = .string(value)
        } else if let value = try? c.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try c.decode(JSONObject.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let value): try c.encode(value)
        case .integer(let value): try c.encode(value)
        case .number(let value): try c.encode(value)
        case .string(let value): try c.encode(value)
        case .array(let value): try c.encode(value)
        case .object(let value): try c.encode(value)
        }
    }
}

extension JSONCoding {
    /// `value` as the API shows it (its JSON encoding), as an object; throws when it does
    /// not encode to an object.
    public static func object(_ value: some Encodable) throws -> JSONObject {
        try parseObject(encoder().encode(value))
    }

    /// The JSON object in `data`; throws for anything else.
    public static func parseObject(_ data: Data) throws -> JSONObject {
        try JSONDecoder().decode(JSONObject.self, from: data)
    }

    /// `object` as compact JSON text with sorted keys.
    public static func text(_ object: JSONObject) throws -> String {
        String(decoding: try encoder().encode(object), as: UTF8.self)
    }
}
