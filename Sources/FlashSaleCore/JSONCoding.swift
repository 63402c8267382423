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
            // Syntactically valid JSON with a value of the wrong shape (1.5 for an integer,
            // a number past Int.max) is a 422, not a 400.
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
                (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil
            {
                throw .validation("The body does not have the expected fields and types.")
            }
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

extension KeyedDecodingContainer {
    /// An optional field of a request body: nil when the key is absent, the value when it
    /// has one of type `T`. An explicit `null` is a wrong type (422), not "absent": a
    /// client that sends `"quantity": null` has a bug the default would hide.
    public func decodeOptional<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        if try decodeNil(forKey: key) {
            throw DecodingError.typeMismatch(
                T.self, .init(codingPath: codingPath + [key], debugDescription: "null is not a value; leave the field out instead"))
        }
        return try decode(T.self, forKey: key)
    }
}
