import HTTPTypes
import Hummingbird
import Logging
import Tracing

/// The id that ties a response to the log lines and the trace of its request: taken from
/// the client's `X-Request-Id` when it looks like one (a proxy's `$request_id`), else made
/// here, and sent back on every response.
public enum RequestID {
    public static let header = HTTPField.Name("X-Request-Id")!
    /// The log metadata key every line logged while handling a request carries.
    public static let metadataKey = "request_id"

    /// 1 to 128 characters of `A-Z a-z 0-9 . _ : -`: enough for any proxy's ids, and
    /// nothing that could forge a log line or a header.
    public static func isValid(_ id: some StringProtocol) -> Bool {
        let bytes = id.utf8
        guard (1...128).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
                true
            default: false
            }
        }
    }

    /// 16 random bytes as 32 lowercase hex digits, like nginx's `$request_id`.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let halves: (UInt64, UInt64) = (generator.next(), generator.next())
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for (half, value) in [halves.0, halves.1].enumerated() {
                for nibble in 0..<16 {
                    buffer[half * 16 + nibble] = hexDigits[Int((value >> UInt64(60 - 4 * nibble)) & 0xF)]
                }
            }
            return 32
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The request id of the request being handled, wherever in its task tree the code
    /// runs: it travels in the `ServiceContext`, beside the trace context.
    public static var current: String? { ServiceContext.current?.requestID }
}

extension Logger.MetadataProvider {
    /// Adds `request_id` to every line logged while a request is handled, by any logger
    /// (services hold the app's logger from their init, not the request's). Installed
    /// where the process bootstraps logging (`LogSetup`).
    public static let requestID = Logger.MetadataProvider {
        guard let id = RequestID.current else { return [:] }
        return [RequestID.metadataKey: .string(id)]
    }
}

private enum RequestIDKey: ServiceContextKey {
    typealias Value = String
    static var nameOverride: String? { RequestID.metadataKey }
}

extension ServiceContext {
    var requestID: String? {
        get { self[RequestIDKey.self] }
        set { self[RequestIDKey.self] = newValue }
    }
}

/// The outermost middleware: settles the request's id, runs the rest of the app with it in
/// the request's logger and in the task's `ServiceContext` (which the log metadata provider
/// and any span read), and puts it on the response, whatever answered: a route, the
/// shield's refusals, a 404, an error.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        let id: String
        if let given = request.headers[RequestID.header], RequestID.isValid(given) {
            id = given
        } else {
            id = RequestID.generate()
            // The rest of the app (the trace span's recorded header) sees the id in force.
            var head = request.head
            head.headerFields[RequestID.header] = id
            request = Request(head: head, body: request.body)
        }
        var context = context
        context.logger[metadataKey: RequestID.metadataKey] = .string(id)
        var serviceContext = ServiceContext.current ?? .topLevel
        serviceContext.requestID = id
        var response: Response
        do {
            response = try await ServiceContext.$current.withValue(serviceContext) {
                try await next(request, context)
            }
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[RequestID.header] = id
        return response
    }
}
