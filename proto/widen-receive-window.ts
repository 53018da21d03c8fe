import type { ServerHttp2Stream } from 'node:http2';
import { ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';

/** The HTTP/2 receive window the servers advertise, per stream and per connection (Node's default is 64 KiB). */
export const RECEIVE_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * Widens a connection's HTTP/2 receive windows on its first call. With Node's 64 KiB default a client may send only
 * 64 KiB per round trip, and a round trip includes the time both event loops take to get to the socket: a 13 MB
 * TeeNode.Infer from a busy client crawled at ~1 MB/s and missed its 10 s deadline (fuzz). grpc-js has no server option
 * for it (its `grpc-node.flow_control_window` is client-only), so it is set here on the session the call arrived on.
 * Memory stays bounded: everything a client has in flight counts against the one connection window.
 */
export function widenReceiveWindow(bytes = RECEIVE_WINDOW_BYTES): ServerInterceptor {
  const widened = new WeakSet<object>();
  return (_method, call) => {
    const session = innermost(call).stream?.session;
    if (session && !widened.has(session) && !session.destroyed) {
      widened.add(session);
      try {
        session.setLocalWindowSize(bytes);
        session.settings({ initialWindowSize: bytes });
      } catch {
        // A session closing under us: nothing to widen.
      }
    }
    return new ServerInterceptingCall(call);
  };
}

/** The call grpc-js built for the stream, under any interceptors listed before this one. */
function innermost(call: unknown): { stream?: ServerHttp2Stream } {
  let c = call as { stream?: ServerHttp2Stream; nextCall?: unknown };
  for (let depth = 0; !c.stream && c.nextCall && depth < 8; depth++) c = c.nextCall as typeof c;
  return c;
}
