import FlashSaleCore
import FlashSalePayments
import FlashSaleStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Builds the whole shop from one config value: the one place where the parts are wired.
///
/// - Parameters:
///   - store: a store to use instead of opening `config.database` (tests keep a handle on
///     the same real store to check counts).
///   - paymentProvider: a provider to use instead of the one `config` names (tests pass
///     the simulator with faults injected, and keep a handle on its ledger).
public func buildApplication(
    _ config: ServerConfig, logger: Logger = Logger(label: "flashsale"), store: (any Store)? = nil,
    paymentProvider: (any PaymentProvider)? = nil
) async throws -> some ApplicationProtocol {
    try config.validate()
    // First: the provider's HTTP client below takes the tracer when it is made.
    let tracing = try config.otelEndpoint.map { try TracingSetup.bootstrap(endpoint: $0, logger: logger) }
    let metrics = ShopMetrics()
    let store = ObservedStore(try store ?? makeStore(config.database, logger: logger), observer: metrics)
    let engine = InventoryEngine(store: store, observer: metrics)
    let waitingRoom = WaitingRoom(
        secret: config.secret, nodeCount: config.nodeCount ?? 1, maxNoShowFactor: config.admissionStockFactor,
        liveAvailable: { engine.gateAvailable(saleID: $0) })
    let catalog = SaleCatalog(store: store, lottery: waitingRoom.lottery(for:))
    let readiness = Readiness()
    let idempotency = IdempotencyGuard(store: store)

    // The edge shield: one resolved client address, the access lists, per-client limits.
    let resolver = ClientAddressResolver(trustedProxies: config.trustedProxies)
    let accessLists = AccessLists(store: store)
    let limits = ClientLimits(settings: config.shield)
    let shieldEvents = ShieldEvents(metrics: metrics, logger: logger)
    let renderer = PageRenderer(library: try PageTemplates.library())
    let shieldPages = ShieldPages(renderer: renderer)

    let router = Router(context: AppRequestContext.self)
    // Outermost: every response, refusals and errors included, carries the request's id.
    router.add(middleware: RequestIDMiddleware())
    if tracing != nil { router.add(middleware: TracingMiddleware(recordingHeaders: [RequestID.header])) }
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    router.add(middleware: ErrorMiddleware())
    router.add(
        middleware: ShieldMiddleware(
            resolver: resolver, lists: accessLists, limits: limits, events: shieldEvents, signer: waitingRoom.signer,
            adminToken: Array(config.adminToken.utf8), pages: shieldPages))
    let backlog = BacklogReader(store: store, grace: config.paymentTimeout + config.reconcileMargin)
    OpsController(store: store, readiness: readiness, metrics: metrics, backlog: backlog).addRoutes(to: router)
    let api = router.group("api/v1")
    let consoleSession = ConsoleSession(secret: config.secret, adminToken: config.adminToken)
    let admin = api.group("admin").add(middleware: AdminAuthMiddleware(token: config.adminToken, session: consoleSession))
    let actions = OperatorActions(store: store, catalog: catalog, waitingRoom: waitingRoom, lists: accessLists, engine: engine)
    AdminController(store: store, catalog: catalog, waitingRoom: waitingRoom, actions: actions).addRoutes(to: admin)
    let hub = EventsHub(
        stats: LiveStats(catalog: catalog, waitingRoom: waitingRoom, store: store, events: shieldEvents), logger: logger)
    EventsController(hub: hub).addRoutes(to: admin)
    ConsoleController(
        session: consoleSession, adminToken: Array(config.adminToken.utf8), actions: actions, store: store, hub: hub, renderer: renderer
    ).addRoutes(to: router)
    AccessListController(store: store, actions: actions).addRoutes(to: admin)
    AdminOrdersController(store: store, actions: actions).addRoutes(to: admin)
    AuditController(store: store).addRoutes(to: admin)
    StorefrontController(catalog: catalog).addRoutes(to: api)
    let challenges = JoinChallenges(
        secret: config.secret, maxLevel: config.maxChallengeLevel, joinPolicy: config.shield.joins, resolver: resolver, limits: limits, metrics: metrics, logger: logger)
    let queue = QueueController(
        catalog: catalog, waitingRoom: waitingRoom, metrics: metrics, limits: limits, events: shieldEvents, challenges: challenges)
    queue.addRoutes(to: api)
    let recentReservations = RecentReservations()
    let reservations = ReservationController(
        catalog: catalog, waitingRoom: waitingRoom, engine: engine, idempotency: idempotency, metrics: metrics,
        recent: recentReservations)
    reservations.addRoutes(to: api)
    // A client of its own for an external provider, sized for a sale and shut down with the app.
    let providerClient = config.paymentsURL.map { _ in
        HTTPPaymentProvider.makeClient(connections: config.paymentConnections, connectTimeout: min(.seconds(1), config.paymentTimeout))
    }
    let unobservedProvider: any PaymentProvider =
        if let paymentProvider {
            paymentProvider
        } else if let url = config.paymentsURL, let providerClient {
            HTTPPaymentProvider(baseURL: url, client: providerClient, requestTimeout: config.paymentTimeout)
        } else {
            try SimulatedProvider()
        }
    let provider = ObservedPaymentProvider(base: unobservedProvider, metrics: metrics)
    let checkout = CheckoutService(
        store: store, catalog: catalog, recentReservations: recentReservations, provider: provider, idempotency: idempotency,
        secret: config.secret, metrics: metrics, logger: logger,
        unitsReturned: { saleID, units in engine.unitsReturned(saleID: saleID, units: units) })
    PaymentController(checkout: checkout).addRoutes(to: api)
    PageController(
        catalog: catalog, waitingRoom: waitingRoom, queue: queue, reservations: reservations, checkout: checkout,
        renderer: renderer, shieldPages: shieldPages
    ).addRoutes(to: router)

    let membership = membership(config, store: store, waitingRoom: waitingRoom, readiness: readiness, logger: logger)
    // The loops that query the store start once it is migrated (`AfterMigration`).
    let storeLoops: [any Service] =
        [
            ExpirySweeper(store: store, engine: engine, metrics: metrics, interval: config.expirySweepInterval, logger: logger),
            CatalogRefresher(
                catalog: catalog, engine: engine, waitingRoom: waitingRoom, metrics: metrics, store: store,
                interval: config.catalogRefreshInterval, logger: logger),
            IdempotencyJanitor(store: store, logger: logger),
            PaymentReconciler(
                checkout: checkout, interval: config.reconcileInterval, grace: config.paymentTimeout + config.reconcileMargin,
                logger: logger),
            OutboxWorker(
                store: store, catalog: catalog, provider: provider, mailDrop: MailDrop(directory: config.mailDrop), metrics: metrics,
                interval: config.outboxInterval, logger: logger),
            AccessListRefresher(lists: accessLists, store: store, interval: config.shield.accessListRefresh, logger: logger),
        ] + membership
    // The exporter first, so that it stops last and sends the spans of the final requests.
    let services: [any Service] =
        (tracing.map { [$0] } ?? []) + store.services + storeLoops.map { AfterMigration(readiness: readiness, service: $0) } + [hub]
        + (providerClient.map { [HTTPClientShutdown(client: $0)] } ?? [])

    let connections = ConnectionCounter(perClientLimit: config.shield.maxConnectionsPerClient, totalLimit: config.shield.maxConnections)
    let guardSettings = ConnectionGuard.Settings(
        counter: connections, resolver: resolver, headerTimeout: .init(config.shield.headerTimeout), bodyTimeout: .init(config.shield.bodyTimeout),
        writeTimeout: .init(config.shield.writeTimeout), events: shieldEvents)

    var app = Application(
        router: router,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionGuard(guardSettings), MalformedRequestResponder()], idleTimeout: .init(config.shield.idleTimeout))),
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil, backlog: config.shield.listenBacklog),
        services: services,
        onServerRunning: { channel in
            // Over-cap connections are refused on the listening socket, before any HTTP pipeline.
            let filter = AcceptFilter(counter: connections, resolver: resolver, events: shieldEvents)
            do {
                try await channel.pipeline.addHandler(filter, position: .first).get()
            } catch {
                logger.warning("the accept filter could not be installed; caps apply after accept", metadata: ["error": "\(error)"])
            }
            let port = channel.localAddress?.port ?? config.port
            logger.notice("listening on http://\(config.host):\(port)")
        },
        logger: logger
    )
    app.beforeServerStarts {
        try await store.migrate()
        try await accessLists.refresh(force: true)
        readiness.markMigrated()
        if config.demoSale { try await DemoSale.ensure(in: store, logger: logger) }
        for sale in try await catalog.refresh() {
            engine.observe(saleID: sale.id, available: sale.inventory.available)
        }
        logger.info("store ready", metadata: ["database": "\(config.database)"])
    }
    return app
}

/// Heartbeats through the store when the node count is left to them (`nodeCount` nil) and
/// the store can hold several nodes; none with a fixed `--node-count` or on SQLite.
private func membership(
    _ config: ServerConfig, store: any Store, waitingRoom: WaitingRoom, readiness: Readiness, logger: Logger
) -> [any Service] {
    guard config.nodeCount == nil, let cluster = store.cluster else { return [] }
    return [
        ClusterMembership(
            cluster: cluster, nodeID: config.nodeID, waitingRoom: waitingRoom, readiness: readiness, interval: config.heartbeatInterval,
            logger: logger)
    ]
}

/// The sale `flashsale serve --demo` opens, so a fresh checkout has something to buy.
enum DemoSale {
    static let sku = "DEMO-SNEAKER"

    static func ensure(in store: any Store, logger: Logger) async throws {
        let now = Date()
        if try await store.allSales().contains(where: { $0.sku == sku && $0.endsAt > now }) { return }
        let sale = try await store.createSale(
            NewSale(
                sku: sku, name: "Demo sneaker (red, size 42)", priceCents: 12_900, currency: "USD", quantity: 100,
                startsAt: now.addingTimeInterval(30), endsAt: now.addingTimeInterval(3 * 3600), perCustomerLimit: 1,
                reservationTTLSeconds: 600, admissionRatePerSecond: 20),
            id: UUID(), now: now)
        logger.notice(
            "demo sale created: 100 units open in 30 seconds",
            metadata: ["sale": "\(sale.id.lowercased)", "url": "/api/v1/sales/\(sale.id.lowercased)"])
    }
}
