import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { traceHttpRequest } from '../trace-http-request';

/** One answer from the gateway: status, headers and the body as it arrives. */
export type GatewayAnswer = {
  status: number;
  header(name: string): string | undefined;
  /** The body's bytes as they arrive (read it, or call discard()). */
  body: AsyncIterable<Uint8Array>;
  /** The whole body, refused past `maxBytes` (declared or counted) without reading the rest. */
  bytes(maxBytes: number): Promise<Uint8Array>;
  /** Frees the connection without reading the body. */
  discard(): void;
};

export type GatewayRequest = {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: Uint8Array;
  signal: AbortSignal;
};

export type GatewayRequester = {
  request(path: string, init: GatewayRequest): Promise<GatewayAnswer>;
  /** Closes the idle keep-alive connections. */
  close(): void;
};

/** The answer is larger than the caller accepts (`declared` when the gateway said so in content-length). */
export class AnswerTooLarge extends Error {
  constructor(readonly declared: number | undefined) {
    super('the answer exceeds the size limit');
  }
}

/**
 * HTTP/1.1 to the gateway over node:http(s) with one keep-alive agent. A sealed call is a small request and a
 * small answer (or an SSE stream of small events), so what it costs is per exchange and per event, not per byte:
 * on the machines we measured, `fetch` (undici, WHATWG streams, an AbortSignal chain per call) spent ~1 ms more per
 * hop than a plain keep-alive request, and read each SSE event through two stream layers. Aborting `signal` before
 * the answer ends destroys that exchange's socket; after, it changes nothing (the socket is back in the pool).
 */
export function createGatewayRequester(base: URL): GatewayRequester {
  const secure = base.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const send = secure ? https.request : http.request;

  return {
    // issue #12: a client span per request, its traceparent in the headers (OpenTelemetry API only).
    request: (path, init) => traceHttpRequest(init.method, path, init.headers, (traced) => requestOnce(path, { ...init, headers: traced }), (a) => a.status),
    close: () => agent.destroy(),
  };

  function requestOnce(path: string, init: GatewayRequest): Promise<GatewayAnswer> {
    return new Promise((resolve, reject) => {
      if (init.signal.aborted) return reject(init.signal.reason);
      const target = new URL(path, base);
      const headers: Record<string, string> = { ...init.headers };
      if (init.body) headers['content-length'] = String(init.body.byteLength);
      const req = send(target, { method: init.method, headers, agent });
      let done = false;
      let response: IncomingMessage | undefined;
      const onAbort = () => {
        if (done) return;
        // Before the answer, the request fails (its 'error' listener rejects); after, its body just stops.
        if (response) response.destroy();
        else req.destroy(init.signal.reason instanceof Error ? init.signal.reason : new Error('aborted'));
      };
      init.signal.addEventListener('abort', onAbort, { once: true });
      const finish = () => {
        done = true;
        init.signal.removeEventListener('abort', onAbort);
      };
      req.once('error', (err) => {
        finish();
        reject(err);
      });
      req.once('response', (res: IncomingMessage) => {
        // An error after this point surfaces on the body's iterator; the request's own 'error' must not throw.
        req.on('error', () => undefined);
        res.on('error', () => undefined);
        response = res;
        // Once the whole answer is in, the socket is the pool's: a later abort must not destroy it.
        res.once('end', finish);
        res.once('close', finish);
        resolve(answerOf(res));
      });
      req.end(init.body);
    });
  }
}

function answerOf(res: IncomingMessage): GatewayAnswer {
  return {
    status: res.statusCode ?? 0,
    header(name) {
      const value = res.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    body: res,
    async bytes(maxBytes) {
      const declared = Number(res.headers['content-length'] ?? NaN);
      if (declared > maxBytes) {
        res.destroy();
        throw new AnswerTooLarge(declared);
      }
      const parts: Buffer[] = [];
      let total = 0;
      for await (const chunk of res as AsyncIterable<Buffer>) {
        total += chunk.byteLength;
        if (total > maxBytes) {
          res.destroy();
          throw new AnswerTooLarge(undefined);
        }
        parts.push(chunk);
      }
      // res.complete is false when the connection closed before content-length bytes arrived.
      if (!res.complete) throw new Error('the gateway connection closed before the answer ended');
      const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      return new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength);
    },
    discard: () => res.resume(),
  };
}
