/// A longest-prefix-match table of IPv4 and IPv6 networks, each mapped to a `Value`: which
/// allow/deny rule covers a client address when rules nest (`10.0.0.0/8` deny with
/// `10.1.2.0/24` allow).
///
/// One path-compressed binary trie per family (PATRICIA, D. R. Morrison, JACM 1968): each node
/// is a network, a child extends its parent's prefix, and a node exists only if it holds a
/// value or is where two networks diverge. So `lookup` walks at most one node per prefix
/// length (≤ 32 steps for IPv4, ≤ 128 for IPv6) whatever the number of entries, and the table
/// holds at most 2·`count` + 2 nodes.
///
/// Nodes live in one flat array and point to their children by index, so the table is a value
/// type with no object per node: a copy shares its arrays until one side writes, and that write
/// duplicates plain memory (32 bytes a node: at most 6.4 MB for 100,000 entries, plus the
/// values). The server builds a new table and swaps it in whole under a lock.
///
/// Addresses are looked up in canonical form (`IPAddress.canonical`): an IPv4-mapped IPv6
/// address matches IPv4 networks only, never an IPv6 network such as `::/0`.
public struct CIDRTable<Value> {
    struct Node {
        /// The network: the first `length` bits of `key`, the rest zero.
        var key: AddressKey
        var length: UInt8
        var hasValue: Bool
        var zero: Int32 = CIDRTable.none
        var one: Int32 = CIDRTable.none

        subscript(bit: Int) -> Int32 {
            get { bit == 0 ? zero : one }
            set { if bit == 0 { zero = newValue } else { one = newValue } }
        }
    }

    static var none: Int32 { -1 }
    private static var ipv4Root: Int32 { 0 }
    private static var ipv6Root: Int32 { 1 }

    private var nodes: [Node]
    /// Parallel to `nodes`: the value of each node that holds one.
    private var values: [Value?]
    /// Indexes of removed nodes, reused before the arrays grow.
    private var freeNodes: [Int32] = []
    /// How many networks hold a value.
    public private(set) var count = 0

    /// An empty table.
    public init() {
        nodes = [false, true].map { Node(key: AddressKey(high: 0, low: 0, isIPv6: $0), length: 0, hasValue: false) }
        values = [nil, nil]
    }

    /// A table holding `entries`; a later entry for an equal network replaces an earlier one.
    public init(_ entries: some Sequence<(CIDR, Value)>) {
        self.init()
        for (cidr, value) in entries { insert(cidr, value) }
    }

    public var isEmpty: Bool { count == 0 }

    /// Nodes in use, branch points included (at most 2·`count` + 2).
    var nodeCount: Int { nodes.count - freeNodes.count }

    /// Maps `cidr` to `value`.
    /// - Returns: the value `cidr` held before, nil when it was not in the table.
    @discardableResult
    public mutating func insert(_ cidr: CIDR, _ value: Value) -> Value? {
        let key = Self.key(cidr)
        let length = cidr.prefixLength
        var parent = key.isIPv6 ? Self.ipv6Root : Self.ipv4Root
        while true {
            let parentLength = Int(nodes[parent].length)
            if parentLength == length { return setValue(value, at: parent) }
            let side = key.bit(parentLength)
            let child = nodes[parent][side]
            if child == Self.none {
                nodes[parent][side] = makeNode(key, length, value)
                count += 1
                return nil
            }
            let childNode = nodes[child]
            let childLength = Int(childNode.length)
            let common = min(key.commonPrefixLength(with: childNode.key), length, childLength)
            if common == childLength {
                parent = child
                continue
            }
            // `child` is longer than what it shares with `cidr`: put a node above it, either
            // `cidr` itself (its prefix) or the branch point where the two diverge.
            let above: Int32
            if common == length {
                above = makeNode(key, length, value)
            } else {
                above = makeNode(key.masked(to: common), common, nil)
                nodes[above][key.bit(common)] = makeNode(key, length, value)
            }
            nodes[above][childNode.key.bit(common)] = child
            nodes[parent][side] = above
            count += 1
            return nil
        }
    }

    /// Takes `cidr` out of the table; networks inside or around it are untouched.
    /// - Returns: the value it held, nil when it was not in the table.
    @discardableResult
    public mutating func remove(_ cidr: CIDR) -> Value? {
        let key = Self.key(cidr)
        let length = cidr.prefixLength
        var grandparent = Self.none
        var parent = Self.none
        var node = key.isIPv6 ? Self.ipv6Root : Self.ipv4Root
        while Int(nodes[node].length) < length {
            let next = nodes[node][key.bit(Int(nodes[node].length))]
            guard next != Self.none, Int(nodes[next].length) <= length,
                key.sharesPrefix(with: nodes[next].key, length: Int(nodes[next].length))
            else { return nil }
            (grandparent, parent, node) = (parent, node, next)
        }
        guard nodes[node].hasValue, let old = values[node] else { return nil }
        values[node] = nil
        nodes[node].hasValue = false
        count -= 1
        if parent != Self.none { prune(node, parent: parent, grandparent: grandparent) }
        return old
    }

    /// The longest network in the table that contains `address`, and its value.
    /// - Parameter address: 4 or 16 bytes; an IPv4-mapped IPv6 address is looked up as IPv4.
    /// - Returns: nil when no network contains it, or for any other byte count.
    public func lookup(_ address: [UInt8]) -> (CIDR, Value)? {
        guard let key = AddressKey(address), let node = longestMatch(key), let value = values[node] else { return nil }
        return (cidr(at: node), value)
    }

    /// `lookup(address)?.1` without building the matching `CIDR`: no heap allocation.
    public func value(matching address: [UInt8]) -> Value? {
        guard let key = AddressKey(address), let node = longestMatch(key) else { return nil }
        return values[node]
    }

    /// Every network and its value, IPv4 first, in address order, a network before those
    /// inside it.
    public var entries: [(CIDR, Value)] {
        var result: [(CIDR, Value)] = []
        result.reserveCapacity(count)
        var stack = [Self.ipv6Root, Self.ipv4Root]
        while let node = stack.popLast() {
            if nodes[node].hasValue, let value = values[node] { result.append((cidr(at: node), value)) }
            if nodes[node].one != Self.none { stack.append(nodes[node].one) }
            if nodes[node].zero != Self.none { stack.append(nodes[node].zero) }
        }
        return result
    }

    // MARK: - Internals

    private func longestMatch(_ key: AddressKey) -> Int32? {
        var node = key.isIPv6 ? Self.ipv6Root : Self.ipv4Root
        var best: Int32? = nodes[node].hasValue ? node : nil
        while Int(nodes[node].length) < key.bitWidth {
            let child = nodes[node][key.bit(Int(nodes[node].length))]
            // Path compression skips bits, so the child's whole prefix must be checked.
            guard child != Self.none, key.sharesPrefix(with: nodes[child].key, length: Int(nodes[child].length)) else { break }
            node = child
            if nodes[node].hasValue { best = node }
        }
        return best
    }

    private static func key(_ cidr: CIDR) -> AddressKey {
        // A CIDR's address is always 4 or 16 bytes, and never IPv4-mapped (its initialiser folds those).
        guard let key = AddressKey(cidr.address) else { preconditionFailure("CIDR with \(cidr.address.count) address bytes") }
        return key
    }

    private func cidr(at node: Int32) -> CIDR {
        guard let cidr = CIDR(address: nodes[node].key.bytes, prefixLength: Int(nodes[node].length)) else {
            preconditionFailure("trie node with an invalid prefix length")
        }
        return cidr
    }

    private mutating func setValue(_ value: Value, at node: Int32) -> Value? {
        let old = values[node]
        if !nodes[node].hasValue { count += 1 }
        nodes[node].hasValue = true
        values[node] = value
        return old
    }

    private mutating func makeNode(_ key: AddressKey, _ length: Int, _ value: Value?) -> Int32 {
        let node = Node(key: key, length: UInt8(length), hasValue: value != nil)
        if let index = freeNodes.popLast() {
            nodes[index] = node
            values[index] = value
            return index
        }
        nodes.append(node)
        values.append(value)
        return Int32(nodes.count - 1)
    }

    /// Restores the invariant after `node` lost its value: a node without a value has two
    /// children (roots excepted), so lookups and removals stay within one node per prefix length.
    private mutating func prune(_ node: Int32, parent: Int32, grandparent: Int32) {
        let (zero, one) = (nodes[node].zero, nodes[node].one)
        if zero != Self.none && one != Self.none { return }
        let survivor = zero != Self.none ? zero : one
        replace(node, under: parent, with: survivor)
        release(node)
        // A parent without a value that just lost a leaf has one child left: bypass it too.
        guard survivor == Self.none, grandparent != Self.none, !nodes[parent].hasValue else { return }
        replace(parent, under: grandparent, with: nodes[parent].zero != Self.none ? nodes[parent].zero : nodes[parent].one)
        release(parent)
    }

    private mutating func replace(_ node: Int32, under parent: Int32, with replacement: Int32) {
        if nodes[parent].zero == node { nodes[parent].zero = replacement } else { nodes[parent].one = replacement }
    }

    private mutating func release(_ node: Int32) {
        nodes[node].zero = Self.none
        nodes[node].one = Self.none
        nodes[node].hasValue = false
        values[node] = nil
        freeNodes.append(node)
    }
}

extension CIDRTable: Sendable where Value: Sendable {}

extension Array {
    /// Reads and writes by a trie's `Int32` node index.
    fileprivate subscript(index: Int32) -> Element {
        get { self[Int(index)] }
        set { self[Int(index)] = newValue }
    }
}
