import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// The nodes a crowd plays against, spread as a load balancer without stickiness spreads
/// them: each request goes to the next node in turn, whoever the shopper is, and a request
/// that cannot reach its node (refused, reset: the node is dead) is sent at once to the
/// next one. A shopper's pass and idempotency keys go with it, so any node carries on where
/// another stopped.
public final class NodeRotation: Sendable {
    public let urls: [String]
    private let turns = Atomic<Int>(0)

    /// - Parameter urls: base URLs, each one URL or a comma-separated list; spaces, trailing
    ///   slashes and empty entries are dropped.
    public init(_ urls: [String]) {
        self.urls = Self.parse(urls)
    }

    /// The base URLs named by `values`, in order.
    public static func parse(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            .filter { !$0.isEmpty }
    }

    /// The nodes (indices into `urls`) one request tries, in order: its turn's node first,
    /// then each other node once.
    public static func order(turn: Int, count: Int) -> [Int] {
        guard count > 0 else { return [] }
        let first = ((turn % count) + count) % count
        return (0..<count).map { (first + $0) % count }
    }

    /// The order for the next request: the turn moves on by one per request.
    public func nextOrder() -> [Int] {
        Self.order(turn: turns.wrappingAdd(1, ordering: .relaxed).oldValue, count: urls.count)
    }

    /// Whether `error` says the node could not be reached or dropped the connection, so
    /// that another node may take the request; a slow node or a stopped run is not that.
    public static func isConnectionFailure(_ error: any Error) -> Bool {
        switch error {
        case let error as HTTPClientError:
            return error == .connectTimeout || error == .remoteConnectionClosed
        case let error as IOError:
            return [ECONNREFUSED, ECONNRESET, EPIPE, ECONNABORTED, EHOSTUNREACH, ENETUNREACH].contains(error.errnoCode)
        case is NIOConnectionError:
            return true
        case let error as ChannelError:
            if case .connectTimeout = error { return true }
            return error == .ioOnClosedChannel || error == .eof
        default:
            return false
        }
    }
}
