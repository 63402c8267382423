import AsyncHTTPClient
import FlashSaleLoad
import NIOCore
import NIOPosix
import Testing

/// How the crowd spreads requests over several nodes and steps past a dead one.
@Suite struct NodeRotationTests {
    @Test func urlsComeRepeatedOrAsACommaList() {
        #expect(NodeRotation.parse(["http://a:1"]) == ["http://a:1"])
        #expect(NodeRotation.parse(["http://a:1/, http://b:2", "http://c:3"]) == ["http://a:1", "http://b:2", "http://c:3"])
        #expect(NodeRotation.parse([" , http://a:1,,"]) == ["http://a:1"])
        #expect(NodeRotation(["http://a:1,http://b:2"]).urls.count == 2)
    }

    @Test func eachRequestTakesTheNextNodeThenTheOthersOnce() {
        #expect(NodeRotation.order(turn: 0, count: 3) == [0, 1, 2])
        #expect(NodeRotation.order(turn: 4, count: 3) == [1, 2, 0])
        #expect(NodeRotation.order(turn: -1, count: 3) == [2, 0, 1])
        #expect(NodeRotation.order(turn: 7, count: 1) == [0])
        #expect(NodeRotation.order(turn: 7, count: 0) == [])
        // Per request, not per shopper: consecutive requests start on consecutive nodes.
        let rotation = NodeRotation(["http://a:1", "http://b:2", "http://c:3"])
        let firsts = (0..<6).map { _ in rotation.nextOrder()[0] }
        #expect(firsts == [0, 1, 2, 0, 1, 2])
        #expect(Set(rotation.nextOrder()) == [0, 1, 2])
    }

    @Test func aDeadNodeIsAConnectionFailureASlowOneIsNot() {
        #expect(NodeRotation.isConnectionFailure(IOError(errnoCode: ECONNREFUSED, reason: "connect")))
        #expect(NodeRotation.isConnectionFailure(IOError(errnoCode: ECONNRESET, reason: "read")))
        #expect(NodeRotation.isConnectionFailure(HTTPClientError.remoteConnectionClosed))
        #expect(NodeRotation.isConnectionFailure(HTTPClientError.connectTimeout))
        #expect(NodeRotation.isConnectionFailure(ChannelError.ioOnClosedChannel))
        #expect(NodeRotation.isConnectionFailure(ChannelError.connectTimeout(.seconds(1))))
        // A node that answers slowly, or a run that stops, is not failed over.
        #expect(!NodeRotation.isConnectionFailure(HTTPClientError.readTimeout))
        #expect(!NodeRotation.isConnectionFailure(HTTPClientError.deadlineExceeded))
        #expect(!NodeRotation.isConnectionFailure(CancellationError()))
        #expect(!NodeRotation.isConnectionFailure(IOError(errnoCode: EMFILE, reason: "socket")))
    }
}
