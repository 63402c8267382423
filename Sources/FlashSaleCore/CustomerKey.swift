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

