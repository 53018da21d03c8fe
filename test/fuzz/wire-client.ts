import * as grpc from '@grpc/grpc-js';

/** What came back for one raw call: the status, the trailers a typed Veil error carries, and the response bytes. */
export type WireAnswer = {
  status: grpc.status;
  /** grpc-js's status details (the error message a client would see). */
  details: string;
  /** `veil-error-code` trailer, when present. */
  veilCode: string | undefined;
  /** `x-request-id` trailer, when present. */
  requestId: string | undefined;
  /** The serialized response of an OK call. */
  response: Buffer | undefined;
  /** True when the status was produced by this client (its own deadline or cancel), not by the server. */
  local: boolean;
  ms: number;
};

export type WireCallOptions = { deadlineMs: number };

export type ClientStreamOptions = WireCallOptions & {
  /** Cancel the call after writing this many frames instead of ending the stream (a client that gives up). */
  cancelAfter?: number;
};

export type WireClient = {
  /** One unary call whose request is exactly `bytes` on the wire (no protobuf encoding on this side). */
  unary(method: string, bytes: Uint8Array, options: WireCallOptions): Promise<WireAnswer>;
  /** One client-streaming call that writes exactly `frames`, one gRPC message each. */
  clientStream(method: string, frames: readonly Uint8Array[], options: ClientStreamOptions): Promise<WireAnswer>;
  /** Cancels every call in flight (their answers are `local` CANCELLED): used when the server is known to be dead. */
  abortAll(): void;
  close(): void;
};

const passThrough = (value: Uint8Array): Buffer => (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength));
const keepBytes = (value: Buffer): Buffer => value;

/**
 * A generic grpc-js client with pass-through serializers, so bytes that are not valid protobuf (random, truncated,
 * oversized) reach the server's own decoder exactly as given. Methods are full paths: `/veil.v1.Fhe/Predict`.
 */
export function createWireClient(address: string, options: { maxMessageBytes: number }): WireClient {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': options.maxMessageBytes,
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc-node.flow_control_window': 8 * 1024 * 1024,
  });

  const inFlight = new Map<{ cancel(): void }, { aborted: boolean }>();
  const track = (call: { cancel(): void }) => {
    const entry = { aborted: false };
    inFlight.set(call, entry);
    return entry;
  };

  const settle = (started: number, resolve: (a: WireAnswer) => void, ownCancel: () => boolean, done: () => void) =>
    (err: grpc.ServiceError | null, response?: Buffer) => {
      done();
      const ms = performance.now() - started;
      if (!err) {
        resolve({ status: grpc.status.OK, details: '', veilCode: undefined, requestId: undefined, response, local: false, ms });
        return;
      }
      const trailer = (key: string) => {
        const value = err.metadata?.get(key)[0];
        return value === undefined ? undefined : String(value);
      };
      const veilCode = trailer('veil-error-code');
      const requestId = trailer('x-request-id');
      // grpc-js answers these itself when the client's deadline passes or it cancels; the server sent nothing.
      const local = veilCode === undefined && requestId === undefined
        && ((err.code === grpc.status.DEADLINE_EXCEEDED && /^Deadline exceeded/.test(err.details))
          || (err.code === grpc.status.CANCELLED && ownCancel()));
      resolve({ status: err.code, details: err.details ?? '', veilCode, requestId, response: undefined, local, ms });
    };

  return {
    unary: (method, bytes, { deadlineMs }) =>
      new Promise<WireAnswer>((resolve) => {
        const started = performance.now();
        let entry = { aborted: false };
        const call = client.makeUnaryRequest(method, passThrough, keepBytes, bytes, new grpc.Metadata(), { deadline: Date.now() + deadlineMs },
          settle(started, resolve, () => entry.aborted, () => inFlight.delete(call)));
        entry = track(call);
      }),

    clientStream: (method, frames, { deadlineMs, cancelAfter }) =>
      new Promise<WireAnswer>((resolve) => {
        const started = performance.now();
        let cancelled = false;
        let entry = { aborted: false };
        const call = client.makeClientStreamRequest(method, passThrough, keepBytes, new grpc.Metadata(), { deadline: Date.now() + deadlineMs },
          settle(started, resolve, () => cancelled || entry.aborted, () => inFlight.delete(call)));
        entry = track(call);
        let finished = false;
        const ended = new Promise<void>((done) => call.once('status', () => ((finished = true), done())));
        call.on('error', () => undefined);
        void (async () => {
          for (let i = 0; i < frames.length && !finished; i++) {
            if (cancelAfter !== undefined && i >= cancelAfter) break;
            // Respect back-pressure so large uploads are streamed rather than buffered whole; stop once the server answered.
            if (!call.write(frames[i]!)) await Promise.race([new Promise<void>((done) => call.once('drain', done)), ended]);
          }
          if (finished) return;
          if (cancelAfter !== undefined) {
            cancelled = true;
            call.cancel();
          } else call.end();
        })().catch(() => {
          cancelled = true;
          call.cancel();
        });
      }),

    abortAll: () => {
      for (const [call, entry] of inFlight) {
        entry.aborted = true;
        call.cancel();
      }
    },
    close: () => client.close(),
  };
}
