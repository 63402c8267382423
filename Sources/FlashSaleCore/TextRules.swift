import Foundation

/// Rules every text field a client sends must follow (sku, sale name, email, shipping
/// lines, access-rule reason): no control characters, a bounded length, and one Unicode
/// form for comparisons.
public enum TextField {
    /// Unicode general category Cc (C0 controls including NUL, DEL, C1 controls), and the
    /// line and paragraph separators U+2028/U+2029: nothing a person types into one field.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .control || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    public static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: isControl)
    }

    /// Checks one field: at most `maxLength` characters (extended grapheme clusters), no
    /// control characters, and, unless `allowEmpty`, something besides white space.
    /// - Throws: 422 `validation_failed` naming `field` and the rule.
    public static func check(_ value: String, field: String, maxLength: Int, allowEmpty: Bool = false) throws(APIError) {
        let blank = value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        guard (allowEmpty || !blank), value.count <= maxLength, !hasControlCharacters(value) else {
            throw .validation(
                "\(field) must be \(allowEmpty ? "at most " : "1–")\(maxLength) characters without control characters")
        }
    }

    /// The form in which two spellings of one text compare equal: Unicode compatibility
    /// normalisation (NFKC, UAX #15: full-width letters, ligatures and composed accents
    /// become one form) followed by case folding (Unicode `CaseFolding.txt`, so `ß` and
    /// `ss` match, which lowercasing alone would not do).
    public static func folded(_ text: String) -> String {
        text.precomposedStringWithCompatibilityMapping.folding(options: [.caseInsensitive], locale: nil)
    }
}

/// An email address as a shop accepts it: RFC 5321's mailbox syntax and length limits,
/// with internationalised domains (RFC 5890, IDNA) and UTF-8 local parts (RFC 6531).
public struct EmailAddress: Sendable, Equatable {
    /// The local part, NFKC-normalised and case-folded (RFC 5321 lets a server treat it
    /// case-sensitively; no mail provider a shop meets does).
    public var local: String
    /// The domain in its ASCII form: IDNA A-labels (`bücher.example` → `xn--bcher-kva.example`),
    /// lower case.
    public var domain: String

    /// Longest address: a 256-octet forward path (RFC 5321 §4.5.3.1.3) less its angle
    /// brackets (RFC 3696 erratum 1690).
    public static let maxLength = 254
    /// RFC 5321 §4.5.3.1.1.
    public static let maxLocalLength = 64
    /// The longest domain name in text form (RFC 1035 §2.3.4: 255 octets on the wire).
    public static let maxDomainLength = 253
    /// RFC 1035 §2.3.4.
    public static let maxLabelLength = 63

    /// RFC 5322 §3.2.3 `atext` besides letters and digits.
    static let atextSymbols = Set("!#$%&'*+-/=?^_`{|}~".unicodeScalars)

    /// Parses `raw` (surrounding spaces ignored; control characters anywhere, line breaks and
    /// tabs included, refused like in every other text field).
    ///
    /// Accepted: a dot-string local part (RFC 5321 §4.1.2: atoms of `atext`, or any
    /// non-ASCII letter per RFC 6531 §3.3, joined by single dots), `@`, and a domain of at
    /// least two labels that IDNA turns into letters, digits and inner hyphens. Refused,
    /// though RFC 5321 allows them, because no shopper types them and they are a favourite
    /// of injection payloads: quoted local parts and address literals (`[192.0.2.1]`).
    /// - Throws: 422 `validation_failed` saying which rule failed.
    public init(_ raw: String) throws(APIError) {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !TextField.hasControlCharacters(raw) else {
            throw .validation("email must not contain control characters")
        }
        guard text.utf8.count <= Self.maxLength else {
            throw .validation("email must be at most \(Self.maxLength) bytes (RFC 5321)")
        }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .validation("email must be a valid email address such as ana@example.com") }
        let local = TextField.folded(String(parts[0]))
        guard (1...Self.maxLocalLength).contains(local.utf8.count) else {
            throw .validation("the part of email before @ must be 1–\(Self.maxLocalLength) bytes (RFC 5321)")
        }
        guard Self.isDotString(local) else {
            throw .validation("the part of email before @ has a character or dot an address cannot have")
        }
        guard let domain = Self.asciiDomain(String(parts[1])) else {
            throw .validation("the domain of email is not a valid domain name")
        }
        self.local = local
        self.domain = domain
    }

    /// `local@domain`, in the forms above.
    public var normalized: String { "\(local)@\(domain)" }

    static func isDotString(_ local: String) -> Bool {
        let atoms = local.split(separator: ".", omittingEmptySubsequences: false)
        return atoms.allSatisfy { atom in
            !atom.isEmpty
                && atom.unicodeScalars.allSatisfy { scalar in
                    if scalar.isASCII {
                        return scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || atextSymbols.contains(scalar)
                    }
                    // RFC 6531's UTF8-non-ascii, less what no one types: separators,
                    // format characters (zero-width joiners hide in these), private use.
                    switch scalar.properties.generalCategory {
                    case .control, .format, .privateUse, .surrogate, .unassigned, .spaceSeparator, .lineSeparator,
                        .paragraphSeparator:
                        return false
                    default: return true
                    }
                }
        }
    }

    /// The domain's A-label form through Foundation's IDNA (UTS #46, by ICU), or nil when
    /// it is not a host name of two or more LDH labels (RFC 5890 §2.3.1).
    static func asciiDomain(_ raw: String) -> String? {
        guard !raw.isEmpty, !raw.hasPrefix("["), !raw.hasSuffix(".") else { return nil }
        let ascii: String
        if raw.unicodeScalars.allSatisfy(\.isASCII) {
            ascii = raw.lowercased()
        } else {
            var components = URLComponents()
            components.host = raw.precomposedStringWithCompatibilityMapping
            guard let encoded = components.encodedHost, !encoded.contains("%") else { return nil }
            ascii = encoded.lowercased()
        }
        guard ascii.utf8.count <= maxDomainLength else { return nil }
        let labels = ascii.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, let top = labels.last, !top.allSatisfy(\.isNumber) else { return nil }
        return labels.allSatisfy { label in
            (1...maxLabelLength).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { ("a"..."z").contains(Unicode.Scalar($0)) || ("0"..."9").contains(Unicode.Scalar($0)) || $0 == 0x2D }
        } ? ascii : nil
    }
}
