import type * as grpc from '@grpc/grpc-js';
import { scheduleAt } from './schedule-at';

/** A caller's limits on one call: its deadline (epoch ms; 0 or undefined = none) and its cancellation. */
export type CallLimits = { deadline?: number; signal?: AbortSignal };

/** The errors a caller's module speaks (client: TeeError/VeilClientError; gateway: VeilError/TeeError). */
export type CallLimitErrors = { cancelled(): Error; deadlineExceeded(): Error };

/**
 * The one wrapper every unary call in Veil goes through (gRPC stubs on the client and the gateway, the in-process
 * TEE node): `operation` gets its own signal, aborted when the caller aborts or the deadline passes; the result
 * settles exactly once (the first of: the operation, the abort, the deadline), and the caller's abort listener and
 * the deadline timer are removed whichever wins, so a long-lived signal never accumulates listeners.
 * @example const answer = await runWithLimits((signal) => node.infer(request, { signal }), { deadline, signal }, errors);
 */
export function runWithLimits<T>(operation: (signal: AbortSignal) => Promise<T>, limits: CallLimits, errors: CallLimitErrors): Promise<T> {
  const { signal } = limits;
  if (signal?.aborted) return Promise.reject(errors.cancelled());
  if (limits.deadline && limits.deadline <= Date.now()) return Promise.reject(errors.deadlineExceeded());
  const inner = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      timer?.cancel();
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const onAbort = () => finish(() => {
      inner.abort();
      reject(errors.cancelled());
    });
    const timer = limits.deadline ? scheduleAt(limits.deadline, () => finish(() => {
      inner.abort();
      reject(errors.deadlineExceeded());
    })) : undefined;
    signal?.addEventListener('abort', onAbort, { once: true });
    let pending: Promise<T>;
    try {
      pending = operation(inner.signal);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then((value) => finish(() => resolve(value)), (err: unknown) => finish(() => reject(err)));
  });
}

/**
 * A gRPC unary call under {@link runWithLimits}: the deadline also goes to grpc-js (so the server sees it), and an
 * abort cancels the call on the wire. `fromStatus` turns a failed call's status into the caller's error type.
 */
export function callUnary<Res>(
  client: grpc.Client,
  method: string,
  request: unknown,
  limits: CallLimits,
  errors: CallLimitErrors & { fromStatus(err: grpc.ServiceError): Error },
  /** Request metadata beyond what the client's interceptors add (e.g. an `idempotency-key`). */
  metadata?: grpc.Metadata,
): Promise<Res> {
  return runWithLimits((signal) => new Promise<Res>((resolve, reject) => {
    type Callback = (err: grpc.ServiceError | null, res: Res) => void;
    const stub = client as unknown as Record<string, (req: unknown, ...rest: [grpc.Metadata, grpc.CallOptions, Callback] | [grpc.CallOptions, Callback]) => grpc.ClientUnaryCall>;
    const fn = stub[method];
    if (typeof fn !== 'function') throw new TypeError(`no unary method ${method} on this client`);
    const options: grpc.CallOptions = limits.deadline ? { deadline: limits.deadline } : {};
    const done: Callback = (err, response) => (err ? reject(errors.fromStatus(err)) : resolve(response));
    const call = metadata ? fn.call(client, request, metadata, options, done) : fn.call(client, request, options, done);
    signal.addEventListener('abort', () => call.cancel(), { once: true });
  }), limits, errors);
}

/**
 * The streaming twin of {@link runWithLimits}: `produce` gets its own signal, aborted when the caller aborts or the
 * deadline passes, and the stream then fails with the caller's `cancelled` / `deadlineExceeded` error — also when the
 * producer reacts to the abort by simply ending, so a limited stream is never mistaken for a complete one. Breaking
 * out of the iteration aborts the producer's signal as well; listeners and the timer are removed either way.
 */
export async function* streamWithLimits<T>(produce: (signal: AbortSignal) => AsyncIterable<T>, limits: CallLimits, errors: CallLimitErrors): AsyncGenerator<T> {
  const { signal } = limits;
  if (signal?.aborted) throw errors.cancelled();
  if (limits.deadline && limits.deadline <= Date.now()) throw errors.deadlineExceeded();
  const inner = new AbortController();
  let why: 'cancelled' | 'deadline' | undefined;
  const onAbort = () => {
    why ??= 'cancelled';
    inner.abort();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = limits.deadline ? scheduleAt(limits.deadline, () => {
    why ??= 'deadline';
    inner.abort();
  }) : undefined;
  const limited = () => (why === 'deadline' ? errors.deadlineExceeded() : errors.cancelled());
  try {
    for await (const item of produce(inner.signal)) {
      if (why) throw limited();
      yield item;
    }
    if (why) throw limited();
  } catch (err) {
    if (why) throw limited();
    throw err;
  } finally {
    timer?.cancel();
    signal?.removeEventListener('abort', onAbort);
    inner.abort();
  }
}

/**
 * A gRPC server-streaming call under {@link streamWithLimits}: the deadline also goes to grpc-js, an abort (or the
 * consumer breaking out) cancels the call on the wire, and a failed call's status becomes the caller's error type.
 */
export function callServerStream<Res>(
  client: grpc.Client,
  method: string,
  request: unknown,
  limits: CallLimits,
  errors: CallLimitErrors & { fromStatus(err: grpc.ServiceError): Error },
): AsyncGenerator<Res> {
  return streamWithLimits((signal) => (async function* () {
    const stub = client as unknown as Record<string, (req: unknown, options: grpc.CallOptions) => grpc.ClientReadableStream<Res>>;
    const fn = stub[method];
    if (typeof fn !== 'function') throw new TypeError(`no server-streaming method ${method} on this client`);
    const call = fn.call(client, request, limits.deadline ? { deadline: limits.deadline } : {});
    const cancel = () => call.cancel();
    signal.addEventListener('abort', cancel, { once: true });
    try {
      for await (const message of call) yield message as Res;
    } catch (err) {
      const status = err as grpc.ServiceError;
      throw typeof status?.code === 'number' ? errors.fromStatus(status) : err;
    } finally {
      signal.removeEventListener('abort', cancel);
      call.cancel();
    }
  })(), limits, errors);
}
