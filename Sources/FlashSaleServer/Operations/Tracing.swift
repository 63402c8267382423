import FlashSaleCore
import FlashSaleStore
import Foundation
import Logging
import OTel
import ServiceLifecycle
import Synchronization
import Tracing

/// Distributed tracing, on only with `--otel-endpoint`: spans go as OTLP/HTTP (protobuf)
/// to `ENDPOINT/v1/traces`, service name `flashsale`, batched in the background. Off, the
/// process-wide tracer stays the no-op one: no exporter, no background task, and the spans
/// on a request's path are skipped (`TracingSwitch`; ARCHITECTURE.md, "Logs and traces").
public enum TracingSetup {
    private static let bootstrapped = Mutex(false)

    /// Makes the exporting tracer the process's tracer and returns the service that exports
    /// (and, at shutdown, flushes) its spans, to run with the app. Once per process: the
    /// tracer is global state, like the logging system.
    ///
    /// Call it before any `HTTPClient` whose calls should be traced is made: async-http-client
    /// takes the tracer when a client is created, then opens a client span per request and
    /// sends its `traceparent`.
    public static func bootstrap(endpoint: URL, logger: Logger) throws -> any Service {
        var configuration = OTel.Configuration.default
        configuration.serviceName = "flashsale"
        configuration.diagnosticLogger = .custom(logger)
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.traces.otlpExporter.endpoint = tracesURL(endpoint)
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { throw ConfigError("tracing is already set up in this process") }
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        TracingSwitch.turnOn()
        return backend.service
    }

    /// `--otel-endpoint` is the collector's base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` is.
    static func tracesURL(_ endpoint: URL) -> String {
        var text = endpoint.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        return text + "/v1/traces"
    }
}
