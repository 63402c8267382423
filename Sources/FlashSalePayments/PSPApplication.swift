import FlashSaleCore
import Hummingbird
import Logging

/// Everything `flashsale psp` is told on its command line.
public struct PSPConfig: Sendable {
    public var host: String
    /// 0 picks a free port (the log line says which).
    public var port: Int
    public var faults: Faults
    /// The durable ledger file; nil keeps the books in memory.
    public var ledgerPath: String?
    /// How long a charge hit by the timeout fault keeps its client waiting for an answer.
    public var unansweredHold: Duration

    public init(
        host: String = "127.0.0.1", port: Int = 9090, faults: Faults = .none, ledgerPath: String? = nil,
        unansweredHold: Duration = .seconds(600)
    ) {
        self.host = host
        self.port = port
        self.faults = faults
        self.ledgerPath = ledgerPath
        self.unansweredHold = unansweredHold
    }
}

/// Per-request context of the provider: charge and refund bodies are small.
public struct PSPRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }

    public var maxUploadSize: Int { 16 * 1024 }
}

/// Builds the simulated provider's HTTP application.
///
/// - Parameter provider: the books to serve; by default opened from `config` (tests pass
///   their own to look inside).
public func buildPSPApplication(
    _ config: PSPConfig, provider: SimulatedProvider? = nil, logger: Logger = Logger(label: "flashsale-psp")
) throws -> some ApplicationProtocol {
    let provider = try provider ?? SimulatedProvider(ledgerPath: config.ledgerPath, faults: config.faults)
    let router = Router(context: PSPRequestContext.self)
    router.add(middleware: PSPErrorMiddleware())
    PSPController(provider: provider, unansweredHold: config.unansweredHold).addRoutes(to: router)
    return Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: .seconds(30))),
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil),
        onServerRunning: { channel in
            logger.notice("listening on http://\(config.host):\(channel.localAddress?.port ?? config.port)")
        },
        logger: logger
    )
}

/// Every failure as `{"error", "message"}` with its 4xx; nothing unexpected leaves as an
/// empty or HTML 500.
struct PSPErrorMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: PSPRequestContext, next: (Request, PSPRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = Self.apiError(for: error)
            if apiError.status >= 500, apiError.code == APIError.internalError.code {
                context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            }
            return PSPResponse.body(apiError.body, status: .init(code: apiError.status))
        }
    }

    static func apiError(for error: any Error) -> APIError {
        if let error = error as? APIError { return error }
        guard let error = error as? HTTPError else { return .internalError }
        let status = error.status.code
        switch status {
        case 404: return .notFound
        case 413: return .payloadTooLarge
        case 400..<500: return APIError(status: status, code: "bad_request", message: error.body ?? error.status.reasonPhrase)
        default: return .internalError
        }
    }
}
