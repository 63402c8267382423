import Foundation

/// Normalises identities so that one customer counts once against `per_customer_limit`.
public enum CustomerKey {
    /// The canonical form of an email address, or nil when it is not one.
    ///
    /// Case is folded everywhere; `+tags` are dropped for every domain (plus addressing is
    /// the reseller's cheapest trick and few real mailboxes contain a `+`); dots are dropped
    /// and `googlemail.com` becomes `gmail.com` for Gmail, which ignores both.
    public static func email(_ raw: String) -> String? {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count <= 254 else { return nil }
        let parts = trimmed.lowercased().split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        var local = Substring(parts[0])
        var domain = String(parts[1])
        guard !local.isEmpty, local.count <= 64, !domain.isEmpty, domain.contains("."),
            !domain.hasPrefix("."), !domain.hasSuffix("."),
            local.allSatisfy({ !$0.isWhitespace && $0 != "<" && $0 != ">" && $0 != "," && $0 != ";" }),
            domain.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." })
        else { return nil }
        if let plus = local.firstIndex(of: "+") { local = local[..<plus] }
        if domain == "googlemail.com" { domain = "gmail.com" }
        if domain == "gmail.com" { local = Substring(local.filter { $0 != "." }) }
        guard !local.isEmpty else { return nil }
        return "\(local)@\(domain)"
    }
}


extension CustomerKey {
    /// A shipping address reduced to what identifies the door: street line, postal code
    /// and country, case-folded, punctuation dropped and common street words abbreviated,
    /// so "12 Main Street, Apt. 4" and "12 main st apt 4" count as one customer.
    public static func address(line1: String, postalCode: String, country: String) -> String {
        let words = line1.lowercased()
            .map { $0.isLetter || $0.isNumber ? $0 : " " }
            .split(separator: " ", omittingEmptySubsequences: true)
            .map { abbreviations[String($0)] ?? String($0) }
        let postal = postalCode.lowercased().filter { $0.isLetter || $0.isNumber }
        let nation = country.trimmingCharacters(in: .whitespaces).lowercased()
        return "\(words.joined(separator: " "))|\(postal)|\(nation)"
    }

    static let abbreviations: [String: String] = [
        "street": "st", "str": "st", "avenue": "ave", "av": "ave", "road": "rd", "boulevard": "blvd", "drive": "dr",
        "lane": "ln", "court": "ct", "place": "pl", "square": "sq", "apartment": "apt", "suite": "ste", "unit": "apt",
        "north": "n", "south": "s", "east": "e", "west": "w", "number": "no", "floor": "fl",
    ]
}
