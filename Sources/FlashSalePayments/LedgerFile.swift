import FlashSaleCore
import Foundation

/// One line of the ledger file: exactly one of `charge`, `decline` and `refund`.
struct LedgerRecord: Codable, Equatable {
    var charge: ProviderCharge?
    var decline: StoredDecline?
    var refund: ProviderRefund?
    /// Of the charge request, on charge records: the same key with another body is refused.
    var fingerprint: String?

    /// One kind of record, and a charge has its fingerprint: `{}` parses but is no record.
    var isWellFormed: Bool {
        [charge != nil, decline != nil, refund != nil].filter { $0 }.count == 1 && (charge == nil || fingerprint != nil)
    }

    static func charge(_ charge: ProviderCharge, fingerprint: String) -> LedgerRecord {
        LedgerRecord(charge: charge, fingerprint: fingerprint)
    }
    static func decline(_ decline: StoredDecline) -> LedgerRecord { LedgerRecord(decline: decline) }
    static func refund(_ refund: ProviderRefund) -> LedgerRecord { LedgerRecord(refund: refund) }
}

/// A decline, kept so that a retry with the same key gets the same answer. Not a charge:
/// it never appears in the ledger the provider shows.
struct StoredDecline: Codable, Equatable {
    var idempotencyKey: String
    var reason: String
    var fingerprint: String
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case reason, fingerprint
        case idempotencyKey = "idempotency_key"
        case createdAt = "created_at"
    }
}

/// The ledger's durable form: an append-only file of JSON lines. A record is on disk
/// (written and fsynced) before the provider answers for it.
final class LedgerFile {
    let path: String
    private let handle: FileHandle
    private let encoder = JSONCoding.encoder()

    struct Corrupt: Error, CustomStringConvertible {
        var path: String
        var line: Int
        var description: String { "\(path): line \(line) is not a ledger record" }
    }

    /// Opens (creating when absent) the file at `path` and reads back every record in it.
    /// A last line that does not parse is what a crash in the middle of a write leaves: it
    /// is cut off, since its request was never answered. A bad line before the last is
    /// damage this code cannot explain, and refuses to guess about.
    static func open(path: String) throws -> (LedgerFile, [LedgerRecord]) {
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            guard manager.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
            syncDirectory(of: path)
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let (records, goodLength) = try parse(data, path: path)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        if goodLength < data.count {
            try handle.truncate(atOffset: UInt64(goodLength))
            try handle.synchronize()
        }
        try handle.seekToEnd()
        if goodLength > 0, data[data.startIndex + goodLength - 1] != 0x0A {
            // A whole last record without its newline (an edited file): end it, so the next
            // record starts a line of its own.
            try handle.write(contentsOf: Data([0x0A]))
            try handle.synchronize()
        }
        return (LedgerFile(path: path, handle: handle), records)
    }

    private init(path: String, handle: FileHandle) {
        self.path = path
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// Writes one record as a line and waits for the disk to have it.
    func append(_ record: LedgerRecord) throws {
        var line = try encoder.encode(record)
        line.append(0x0A)
        try handle.write(contentsOf: line)
        try handle.synchronize()
    }

    /// The records of `data`, and how many bytes of it hold them (the rest is a torn line).
    static func parse(_ data: Data, path: String) throws -> ([LedgerRecord], Int) {
        let decoder = JSONCoding.decoder()
        var records: [LedgerRecord] = []
        var start = data.startIndex
        var lineNumber = 0
        while start < data.endIndex {
            lineNumber += 1
            let end = data[start...].firstIndex(of: 0x0A) ?? data.endIndex
            let next = end < data.endIndex ? end + 1 : end
            let line = data[start..<end]
            if !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) {
                guard let record = try? decoder.decode(LedgerRecord.self, from: line), record.isWellFormed else {
                    if next == data.endIndex { return (records, start - data.startIndex) }
                    throw Corrupt(path: path, line: lineNumber)
                }
                records.append(record)
            }
            start = next
        }
        return (records, data.count)
    }

    /// A new file's name must itself survive a crash: fsync the directory that holds it.
    private static func syncDirectory(of path: String) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard let handle = FileHandle(forReadingAtPath: directory) else { return }
        try? handle.synchronize()
        try? handle.close()
    }
}
