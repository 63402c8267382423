import FlashSaleCore
import FlashSaleStore
import Foundation
import Hummingbird
import Logging

/// Renders every failure as the JSON error of the contract. Client mistakes keep their
/// 4xx; a database that cannot be reached is 503 `unavailable` with `Retry-After`
/// (`StoreUnavailable`); anything unexpected is logged and answered with a JSON 500, never
/// an empty body.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return JSONResponse.error(error)
        } catch let error as HTTPError {
            return JSONResponse.error(Self.translate(error))
        } catch let error where StoreUnavailable.isUnavailable(error) {
            // The database is down or restarting: the client may try again in a second.
            // Logged quietly: during an outage every request would log; the background services
            // and `/readyz` tell the operator.
            context.logger.debug("store unavailable", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return JSONResponse.error(.unavailable)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            return JSONResponse.error(.internalError)
        }
    }

    static func translate(_ error: HTTPError) -> APIError {
        switch error.status.code {
        case 404: .notFound
        case 405: APIError(status: 405, code: "method_not_allowed", message: "This address does not accept that method.")
        case 413: .payloadTooLarge
        case 400..<500: APIError(status: error.status.code, code: "bad_request", message: error.body ?? "The request is not valid.")
        default: .internalError
        }
    }
}

/// Admin routes require `Authorization: Bearer <admin token>`. The actor goes on in the
/// context (`admin_token`, or `console` for a signed-in session's read), for the audit record.
struct AdminAuthMiddleware<Context: OperatorRequestContext>: RouterMiddleware {
    let token: [UInt8]
    /// The dashboard's signed-in session also opens reads (`GET`, so that the page's
    /// `EventSource`, which cannot send headers, can follow `/api/v1/admin/events`); a
    /// change through the JSON API always needs the bearer header, which no other site's
    /// page can make a browser send.
    let session: ConsoleSession?

    init(token: String, session: ConsoleSession? = nil) {
        self.token = Array(token.utf8)
        self.session = session
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if Self.isAuthorized(request, token: token) {
            context.operatorActor = .adminToken
        } else if isSignedInRead(request) {
            context.operatorActor = .console
        } else {
            throw APIError.unauthorized
        }
        return try await next(request, context)
    }

    private func isSignedInRead(_ request: Request) -> Bool {
        guard let session, request.method == .get || request.method == .head else { return false }
        return session.session(in: request, now: Date()) != nil
    }

    /// Whether the request carries `Authorization: Bearer <token>` (compared in constant time).
    static func isAuthorized(_ request: Request, token: [UInt8]) -> Bool {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return false }
        return constantTimeEqual(Array(header.dropFirst(7).utf8), token)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
