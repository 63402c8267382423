import FlashSaleCore
import FlashSaleStore
import Foundation
import Synchronization

/// The storefront's in-memory copy of every sale, with each public JSON body and its ETag
/// rendered once per refresh. Shopper reads never touch the store; `available` lags the
/// store by at most one refresh interval.
final class SaleCatalog: Sendable {
    /// A JSON body and its ETag.
    struct Rendered: Sendable {
        let json: Data
        let etag: String

        init(_ json: Data) {
            self.json = json
            etag = SaleCatalog.etag(json)
        }
    }

    struct Entry: Sendable {
        let sale: Sale
        let body: Rendered
    }

    struct Snapshot: Sendable {
        var byID: [UUID: Entry] = [:]
        var list = Rendered(Data("{\"sales\":[]}".utf8))
        /// Moves on with every `install`: a refresh whose read began before one is older.
        var installs = 0
    }

    private let store: any Store
    private let snapshot = Mutex(Snapshot())
    /// Each sale's early-bird lottery, shown in its public object.
    let lottery: @Sendable (UUID) -> Lottery

    init(store: any Store, lottery: @escaping @Sendable (UUID) -> Lottery) {
        self.store = store
        self.lottery = lottery
    }

    func entry(_ id: UUID) -> Entry? { snapshot.withLock { $0.byID[id] } }
    var list: Rendered { snapshot.withLock { $0.list } }
    var sales: [Sale] { snapshot.withLock { $0.byID.values.map(\.sale) } }

    /// The sale from the cache, or from the store when this node has not seen it yet
    /// (created a moment ago on another node).
    func sale(_ id: UUID) async throws -> Sale? {
        if let entry = entry(id) { return entry.sale }
        guard let sale = try await store.sale(id: id) else { return nil }
        install(sale, now: Date())
        return sale
    }

    /// How long after its end a sale stays in the cache. Older ones are read from the
    /// store when asked for: re-rendering every sale ever held, four times a second, would
    /// make an idle shop's CPU grow with its history.
    static let retention: TimeInterval = 3_600

    /// Reloads current sales (running, upcoming, or ended within `retention`) from the
    /// store and re-renders their bodies; answers them.
    @discardableResult
    func refresh(now: Date = Date()) async throws -> [Sale] {
        let installsBefore = snapshot.withLock { $0.installs }
        let sales = try await store.allSales().filter { $0.endsAt > now.addingTimeInterval(-Self.retention) }
        let encoder = JSONCoding.encoder()
        var byID: [UUID: Entry] = [:]
        for sale in sales {
            byID[sale.id] = try render(sale, now: now, encoder: encoder)
        }
        let list = try renderList(byID.values.map(\.sale), now: now, encoder: encoder)
        snapshot.withLock { snapshot in
            // A sale installed while this read ran (an operator's change) is newer than what
            // was read: this refresh is dropped, the next one sees it.
            guard snapshot.installs == installsBefore else { return }
            snapshot = Snapshot(byID: byID, list: list, installs: installsBefore)
        }
        return sales
    }

    /// Puts one freshly read sale in the cache at once (after the operator changed it).
    func install(_ sale: Sale, now: Date) {
        let encoder = JSONCoding.encoder()
        guard let entry = try? render(sale, now: now, encoder: encoder) else { return }
        snapshot.withLock { snapshot in
            snapshot.installs += 1
            snapshot.byID[sale.id] = entry
            if let list = try? renderList(snapshot.byID.values.map(\.sale), now: now, encoder: encoder) {
                snapshot.list = list
            }
        }
    }

    /// Live and upcoming sales, soonest first.
    func renderList(_ sales: [Sale], now: Date, encoder: JSONEncoder) throws -> Rendered {
        let visible = sales.filter { $0.status(at: now) != .ended }
            .sorted { ($0.startsAt, $0.id.lowercased) < ($1.startsAt, $1.id.lowercased) }
        return Rendered(try encoder.encode(SaleListView(sales: visible.map { PublicSaleView(sale: $0, now: now, lottery: lottery($0.id)) })))
    }

    func render(_ sale: Sale, now: Date, encoder: JSONEncoder) throws -> Entry {
        Entry(sale: sale, body: Rendered(try encoder.encode(PublicSaleView(sale: sale, now: now, lottery: lottery(sale.id)))))
    }

    /// A strong validator: FNV-1a of the body.
    static func etag(_ body: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in body {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return "\"\(String(hash, radix: 16))\""
    }
}

/// `GET /api/v1/sales`: live and upcoming sales, soonest first.
struct SaleListView: Encodable {
    let sales: [PublicSaleView]
}
