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

