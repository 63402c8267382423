import Foundation

/// An IPv4 or IPv6 network in CIDR notation, such as `10.0.0.0/8` or `::1/128`.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    public let address: [UInt8]
    public let prefixLength: Int

    public init?(_ text: String) {
        // Whitespace is not part of any network's text (`IPAddress.parse` forgives it
        // around header entries, not here).
        // Nor are a zone id, brackets or leading zeros (`010` is octal to some tools): those
        // are forgiven in headers, never in an operator's network.
        guard !text.contains(where: { $0.isWhitespace || $0 == "%" || $0 == "[" || $0 == "]" }) else { return nil }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        func hasLeadingZero(_ number: Substring) -> Bool { number.count > 1 && number.hasPrefix("0") }
        guard (1...2).contains(parts.count), let address = IPAddress.parse(String(parts[0])) else { return nil }
        if address.count == 4, parts[0].split(separator: ".").contains(where: hasLeadingZero) { return nil }
        guard parts.count == 1 || (parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) && !hasLeadingZero(parts[1])),
            let length = parts.count == 2 ? Int(parts[1]) : address.count * 8
        else { return nil }
        self.init(address: address, prefixLength: length)
    }

    /// - Parameters:
    ///   - address: 4 bytes (IPv4) or 16 (IPv6); bits past the prefix are ignored.
    ///   - prefixLength: 0...32 for IPv4, 0...128 for IPv6.
    /// - Returns: nil for any other byte count or length.
    public init?(address: [UInt8], prefixLength: Int) {
        guard address.count == 4 || address.count == 16, (0...address.count * 8).contains(prefixLength) else { return nil }
        var address = address
        var length = prefixLength
        // An IPv4-mapped IPv6 network (::ffff:10.0.0.0/104) is the IPv4 network it maps.
        if length >= 96, IPAddress.isMapped(address) {
            address = IPAddress.canonical(address)
            length -= 96
        }
        // Keep only the network bits, so 10.1.2.3/8 and 10.0.0.0/8 are the same network.
        self.address = address.enumerated().map { index, byte in
            let keep = max(0, min(8, length - index * 8))
            return keep == 8 ? byte : byte & ~(0xFF >> keep)
        }
        self.prefixLength = length
    }

    public func contains(_ candidate: [UInt8]) -> Bool {
        let candidate = IPAddress.unmapped(candidate, matching: address.count)
        guard candidate.count == address.count else { return false }
        var remaining = prefixLength
        for (a, b) in zip(address, candidate) where remaining > 0 {
            let keep = min(8, remaining)
            let mask: UInt8 = keep == 8 ? 0xFF : ~(0xFF >> keep)
            if a & mask != b & mask { return false }
            remaining -= keep
        }
        return true
    }

    public var description: String { "\(IPAddress.format(address))/\(prefixLength)" }
}

public enum IPAddress {
    /// 4 bytes for IPv4, 16 for IPv6; nil when `text` is neither.
    public static func parse(_ text: String) -> [UInt8]? {
        var text = text.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
        if text.contains(":") { return parseIPv6(text) }
        return parseIPv4(text)
    }

    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt8(part) else {
                return nil
            }
            bytes.append(value)
        }
        return bytes
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt8]? {
            if part.isEmpty { return [] }
            var bytes: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains("."), let v4 = parseIPv4(String(piece)) {
                    bytes += v4
                } else {
                    guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                    bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
                }
            }
            return bytes
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    /// The one form every key and lookup uses: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`,
    /// RFC 4291 §2.5.5.2, what a dual-stack socket reports for an IPv4 peer) becomes its 4 IPv4
    /// bytes; any other byte string, including the deprecated IPv4-compatible `::a.b.c.d`, is
    /// returned unchanged.
    public static func canonical(_ bytes: [UInt8]) -> [UInt8] {
        isMapped(bytes) ? Array(bytes[12...]) : bytes
    }

    /// True for the 16 bytes of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
    static func isMapped(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 16, bytes[10] == 0xFF, bytes[11] == 0xFF else { return false }
        for index in 0..<10 where bytes[index] != 0 { return false }
        return true
    }

    /// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) compared as IPv4, and the reverse.
    static func unmapped(_ bytes: [UInt8], matching count: Int) -> [UInt8] {
        count == 4 ? canonical(bytes) : bytes
    }

    /// Text of an address: dotted quad for IPv4; for IPv6 the canonical form of RFC 5952
    /// §4 (lowercase, no leading zeros, the longest run of two or more zero groups, the
    /// first of equal runs, written `::`).
    public static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var (bestStart, bestLength, runStart) = (-1, 1, -1)
        for (index, group) in groups.enumerated() {
            if group != 0 {
                runStart = -1
                continue
            }
            if runStart < 0 { runStart = index }
            if index - runStart + 1 > bestLength { (bestStart, bestLength) = (runStart, index - runStart + 1) }
        }
        let text = groups.map { String($0, radix: 16) }
        guard bestStart >= 0 else { return text.joined(separator: ":") }
        return text[..<bestStart].joined(separator: ":") + "::" + text[(bestStart + bestLength)...].joined(separator: ":")
    }
}

/// Who is asking: the TCP peer, or, when that peer is a trusted proxy, the right-most
/// address in `X-Forwarded-For` that is not itself a trusted proxy.
public struct ClientAddressResolver: Sendable {
    public let trustedProxies: [CIDR]

    public init(trustedProxies: [CIDR]) {
        self.trustedProxies = trustedProxies
    }

    public func isTrusted(_ address: [UInt8]) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    /// - Parameters:
    ///   - peer: the TCP peer's address bytes, nil when unknown (in-process tests).
    ///   - forwardedFor: every `X-Forwarded-For` header value, in order.
    /// - Returns: the client's address in canonical form (`IPAddress.canonical`: an IPv4-mapped
    ///   peer or hop is its 4 IPv4 bytes), nil only when `peer` is nil. A hop that does not
    ///   parse stops the walk: the last address that did is the client, so nothing to the left
    ///   of garbage, which no trusted proxy wrote, is believed. Empty list elements (`a,,b`,
    ///   `a, ,b`) are skipped, as RFC 9110 §5.6.1 asks of recipients of a comma-separated list.
    public func resolve(peer: [UInt8]?, forwardedFor: [String]) -> [UInt8]? {
        guard let peer = peer.map(IPAddress.canonical) else { return nil }
        guard isTrusted(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peer
        for hop in hops.reversed() where !hop.isEmpty {
            guard let address = Self.hopAddress(hop).map(IPAddress.canonical) else { return client }
            client = address
            if !isTrusted(address) { return address }
        }
        return client
    }

    /// A hop as proxies write it: an address, or an address with a port
    /// (`203.0.113.7:5555`, `[2001:db8::1]:443`), which some proxies append.
    static func hopAddress(_ hop: String) -> [UInt8]? {
        if let address = IPAddress.parse(hop) { return IPAddress.canonical(address) }
        let parts = hop.split(separator: ":", omittingEmptySubsequences: false)
        let host: Substring
        if hop.hasPrefix("["), let close = hop.firstIndex(of: "]"), hop[hop.index(after: close)...].hasPrefix(":") {
            host = hop[hop.index(after: hop.startIndex)..<close]
            guard hop[hop.index(close, offsetBy: 2)...].allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        } else if parts.count == 2, parts[0].contains("."), !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) {
            host = parts[0]
        } else {
            return nil
        }
        return IPAddress.parse(String(host)).map(IPAddress.canonical)
    }
}
