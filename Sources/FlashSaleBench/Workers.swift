import AsyncHTTPClient
import Synchronization

/// Runs `body` once for every index in `0..<count` on `workers` concurrent tasks: the
/// shape of every load in these benchmarks (a bounded crowd working through a list).
public func forEachIndex(_ count: Int, workers: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
    let dispenser = IndexDispenser(limit: count)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<workers {
            group.addTask {
                while let index = dispenser.take() { try await body(index) }
            }
        }
        try await group.waitForAll()
    }
}

public final class IndexDispenser: Sendable {
    private let next = Atomic<Int>(0)
    public let limit: Int

    public init(limit: Int) { self.limit = limit }

    public func take() -> Int? {
        let index = next.add(1, ordering: .relaxed).oldValue
        return index < limit ? index : nil
    }
}

final class SharedCounter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// A value shared by a crowd's tasks.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    public init(_ value: Value) { mutex = Mutex(value) }
    public func withLock<T>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}

/// Runs `body` with an HTTP client of `connections` keep-alive connections, and shuts the
/// client down whatever happens.
///
/// `retryConnects` false: a connection that cannot be made fails its requests at once
/// rather than after the connect timeout (a crowd over several nodes sends them on to the next).
public func withBenchClient<T: Sendable>(
    connections: Int, retryConnects: Bool = true, _ body: (HTTPClient) async throws -> T
) async throws -> T {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
    configuration.connectionPool.retryConnectionEstablishment = retryConnects
    configuration.timeout = .init(connect: .seconds(5), read: .seconds(30))
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}
