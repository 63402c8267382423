import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// `GET /api/v1/admin/events` (API.md): `text/event-stream`, one `stats` event a second
/// from `EventsHub`, until the client goes or the server shuts down.
struct EventsController: Sendable {
    let hub: EventsHub

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("events") { _, _ in
            let (id, stream) = hub.subscribe()
            var headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"]
            // nginx and similar proxies would otherwise buffer the stream.
            headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { [hub] writer in
                    // A graceful shutdown waits for open requests: the stream ends at once.
                    try await withGracefulShutdownHandler {
                        for await chunk in stream { try await writer.write(chunk) }
                    } onGracefulShutdown: {
                        hub.unsubscribe(id)
                    }
                    try await writer.finish(nil)
                })
        }
    }
}
