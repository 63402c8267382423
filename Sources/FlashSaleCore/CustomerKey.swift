import Foundation

/// Normalises identities so that one customer counts once against `per_customer_limit`.
public enum CustomerKey {
    /// The canonical form of an email address, or nil when it is not one
    /// (`EmailAddress` says why).
    public static func email(_ raw: String) -> String? {
        (try? EmailAddress(raw)).flatMap(email)
    }

    /// The canonical form of a parsed address: NFKC and case-folded (`EmailAddress`);
    /// `+tags` are dropped for every domain (plus addressing is the reseller's cheapest
    /// trick and few real mailboxes contain a `+`); dots are dropped and `googlemail.com`
    /// becomes `gmail.com` for Gmail, which ignores both. Nil when nothing is left of the
    /// local part (`+tag@example.com`).
    public static func email(_ address: EmailAddress) -> String? {
        var local = Substring(address.local)
        var domain = address.domain
        if let plus = local.firstIndex(of: "+") { local = local[..<plus] }
        // "a.+tag" leaves "a.": the key stays a valid address, its own canonical form.
        while local.hasSuffix(".") { local = local.dropLast() }
        if domain == "googlemail.com" { domain = "gmail.com" }
        if domain == "gmail.com" { local = Substring(local.filter { $0 != "." }) }
        guard !local.isEmpty else { return nil }
        return "\(local)@\(domain)"
    }
}


extension CustomerKey {
    /// A shipping address reduced to what identifies the door: street line, postal code
    /// and country, NFKC-normalised and case-folded (`TextField.folded`), punctuation dropped and common street words abbreviated,
    /// so "12 Main Street, Apt. 4" and "12 main st apt 4" count as one customer.
    public static func address(line1: String, postalCode: String, country: String) -> String {
        let words = TextField.folded(line1)
            .map { $0.isLetter || $0.isNumber ? $0 : " " }
            .split(separator: " ", omittingEmptySubsequences: true)
            .map { abbreviations[String($0)] ?? String($0) }
        let postal = TextField.folded(postalCode).filter { $0.isLetter || $0.isNumber }
        let nation = country.trimmingCharacters(in: .whitespaces).lowercased()
        return "\(words.joined(separator: " "))|\(postal)|\(nation)"
    }

    static let abbreviations: [String: String] = [
        "street": "st", "str": "st", "avenue": "ave", "av": "ave", "road": "rd", "boulevard": "blvd", "drive": "dr",
        "lane": "ln", "court": "ct", "place": "pl", "square": "sq", "apartment": "apt", "suite": "ste", "unit": "apt",
        "north": "n", "south": "s", "east": "e", "west": "w", "number": "no", "floor": "fl",
    ]
}
