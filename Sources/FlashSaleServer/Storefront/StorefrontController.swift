import FlashSaleCore
import Foundation
import Hummingbird

/// `GET /api/v1/sales` and `GET /api/v1/sales/{id}`, served from the catalog with ETags.
struct StorefrontController: Sendable {
    let catalog: SaleCatalog

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("sales", use: list)
        group.get("sales/:id", use: show)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        Self.cached(catalog.list, request: request)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.uuidParameter("id", notFound: .saleNotFound)
        if catalog.entry(id) == nil { _ = try await catalog.sale(id) }
        guard let entry = catalog.entry(id) else { throw APIError.saleNotFound }
        return Self.cached(entry.body, request: request)
    }

    /// 304 when the client already holds this body; otherwise the body, cacheable for 1 s.
    static func cached(_ rendered: SaleCatalog.Rendered, request: Request) -> Response {
        var headers: HTTPFields = [:]
        headers[.eTag] = rendered.etag
        headers[.cacheControl] = "public, max-age=1"
        if let match = request.headers[.ifNoneMatch],
            match == "*" || match.split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "") == rendered.etag
            })
        {
            return Response(status: .notModified, headers: headers)
        }
        return JSONResponse.make(status: .ok, body: rendered.json, headers: headers)
    }
}
