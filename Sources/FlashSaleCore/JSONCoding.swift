import Foundation

/// The one JSON dialect of the public contract: snake_case keys (declared by each type's
/// CodingKeys) and RFC 3339 UTC timestamps with a `Z` suffix.
public enum JSONCoding {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected an RFC 3339 timestamp such as 2026-12-01T18:00:00Z")
            }
            return date
        }
        return decoder
    }

    /// Decodes a client body, turning every failure into the 4xx of the contract.
    public static func decodeBody<T: Decodable>(_ type: T.Type, from data: Data) throws(APIError) -> T {
        do {
            return try decoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw describe(error)
        } catch {
            throw .invalidJSON("The body is not valid JSON.")
        }
    }

    static func describe(_ error: DecodingError) -> APIError {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "the body" : keys.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return .invalidJSON("The body is not valid JSON.")
        case .dataCorrupted(let context):
            return .validation("\(path(context)): \(context.debugDescription)")
        case .keyNotFound(let key, _):
            return .validation("\(key.stringValue) is required")
        case .typeMismatch(let type, let context):
            return .validation("\(path(context)) must be of type \(describe(type))")
        case .valueNotFound(let type, let context):
            return .validation("\(path(context)) must be a \(describe(type)), not null")
        @unknown default:
            return .invalidJSON("The body could not be read.")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type: "integer"
        case is String.Type, is Date.Type: "string"
        case is Bool.Type: "boolean"
        default: "\(type)".lowercased()
        }
    }
}

/// RFC 3339 timestamps in UTC with a `Z` suffix.
public enum Timestamp {
    private static let whole = Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt)
    private static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    /// Whole seconds when the instant has none, milliseconds otherwise.
    public static func format(_ date: Date) -> String {
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        if ms.truncatingRemainder(dividingBy: 1000) == 0 { return whole.format(date) }
        return fractional.format(Date(timeIntervalSince1970: ms / 1000))
    }

    public static func parse(_ text: String) -> Date? {
        if let date = try? whole.parse(text) { return date }
        if let date = try? fractional.parse(text) { return date }
        // Offsets other than Z are valid RFC 3339; accept them and normalise to UTC.
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: false).parse(text) { return date }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}
