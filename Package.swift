// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "flashsale",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "flashsale", targets: ["flashsale"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // OTLP/HTTP only: the default traits add gRPC, several minutes more of a cold build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // Domain types and pure algorithms: no I/O, no framework.
        .target(
            name: "FlashSaleCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Store protocols, SQLite and PostgreSQL implementations, the inventory engine.
        .target(
            name: "FlashSaleStore",
            dependencies: [
                "FlashSaleCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The Hummingbird application: routes, middleware, background services, metrics.
        .target(
            name: "FlashSaleServer",
            dependencies: [
                "FlashSaleCore",
                "FlashSaleStore",
                "FlashSalePayments",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ]
        ),
        // Benchmarks that print figures and ratios against a baseline run side by side.
        .target(
            name: "FlashSaleBench",
            dependencies: [
                "FlashSaleCore",
                "FlashSaleStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // A simulated payment provider (in-process and over HTTP) and the HTTP client the shop uses.
        .target(
            name: "FlashSalePayments",
            dependencies: [
                "FlashSaleCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The crowd simulator: virtual shoppers playing a whole sale over HTTP, and its report.
        .target(
            name: "FlashSaleLoad",
            dependencies: [
                "FlashSaleCore",
                "FlashSaleBench",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // Thin executable: parses the command line and hands over to the libraries.
        .executableTarget(
            name: "flashsale",
            dependencies: [
                "FlashSaleServer",
                "FlashSaleStore",
                "FlashSaleBench",
                "FlashSalePayments",
                "FlashSaleLoad",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "FlashSaleCoreTests", dependencies: ["FlashSaleCore"]),
        .testTarget(name: "FlashSaleLoadTests", dependencies: ["FlashSaleLoad"]),
        .testTarget(
            name: "FlashSaleStoreTests",
            // GRDB and PostgresNIO: the migration tests build a database as an earlier schema left it.
            dependencies: [
                "FlashSaleCore", "FlashSaleStore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "FlashSaleServerTests",
            dependencies: [
                "FlashSaleCore",
                "FlashSaleStore",
                "FlashSaleServer",
                "FlashSalePayments",
                "FlashSaleBench",
                "FlashSaleLoad",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "FlashSalePaymentsTests",
            dependencies: [
                "FlashSalePayments",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ]
)
