import { once } from 'node:events';
import { Metadata } from '@grpc/grpc-js';
import type {
  handleBidiStreamingCall, handleClientStreamingCall, handleServerStreamingCall, handleUnaryCall, sendUnaryData, ServerDuplexStream, ServerReadableStream,
  ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { CallGuard, RpcScope } from '../auth';
import { toGrpcStatus, toVeilError, VeilError } from '../errors';
import type { Logger } from '../logger';
import { recordRpc } from '../telemetry/rpc-metrics';
import { createCallContext, type CallContext } from './call-context';
import { grpcServerSpanName, grpcTraceContext, UndecodableRequest } from '../../proto';
import { context as otelContext, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';

// Looked up per use, not once: a tracer taken before the SDK was (re)installed would keep feeding the old one.
const tracer = () => trace.getTracer('veil-gateway');

type Handler<Req, Res> = (request: Req, context: CallContext) => Promise<Res>;
// grpc-js's own untyped handler shapes.
type GrpcHandler = handleUnaryCall<any, any> | handleClientStreamingCall<any, any> | handleServerStreamingCall<any, any> | handleBidiStreamingCall<any, any>;

export type RpcMethodOptions<Req> = {
  /**
   * What the call touches (mode, and model when the request names one), checked against the caller's API key
   * before the handler runs. For a client stream, computed from the first message. Without it, any valid key may
   * call the method (discovery: ListModels, GetRegistry).
   */
  scope?: (request: Req) => RpcScope;
};

const BIND = Symbol('veil.rpc.bind');

/**
 * A method wrapped by `handleUnary`/`handleClientStream`: callable as a grpc-js handler as is (no authentication),
 * and bound to the server's guard by `bindRpcMethods` when the server is built.
 */
export type RpcMethod = GrpcHandler & { readonly [BIND]: (guard: CallGuard | undefined) => GrpcHandler };
type Bind = RpcMethod[typeof BIND];

/**
 * Wraps a unary method so every call is authenticated (when a guard is bound), decoded, scope-checked and its outcome
 * classified once: success, or a `VeilError` encoded as a gRPC status with a safe message. Internal detail (the
 * cause) is logged with the request id, never sent.
 */
export function handleUnary<Req, Res>(name: string, logger: Logger, handler: Handler<Req, Res>, options: RpcMethodOptions<Req> = {}): RpcMethod {
  const bind = (guard: CallGuard | undefined) => (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const context = createCallContext(call);
    run(name, logger, call, context, () => {
      const request = admission(() => {
        admit(guard, call.metadata, context);
        const decodedRequest = decoded(call.request);
        if (guard && options.scope) guard.authorize(context.principal!, options.scope(decodedRequest));
        return decodedRequest;
      });
      return handler(request, context);
    }, callback);
  };
  return rpcMethod(bind as Bind);
}

/**
 * Same as `handleUnary` for client-streaming methods: the handler consumes the stream itself. Every message is checked
 * as it arrives (decoding; scope on the first), before the handler can read it: a failing message destroys the stream
 * with the typed error, which the handler's read then throws.
 */
export function handleClientStream<Req, Res>(
  name: string, logger: Logger, handler: Handler<ServerReadableStream<Req, Res>, Res>, options: RpcMethodOptions<Req> = {},
): RpcMethod {
  const bind = (guard: CallGuard | undefined) => (call: ServerReadableStream<Req, Res>, callback: sendUnaryData<Res>): void => {
    const context = createCallContext(call);
    run(name, logger, call, context, () => {
      admission(() => admit(guard, call.metadata, context));
      checkMessages(call, (message, index) => {
        const request = decoded(message);
        if (index === 0 && guard && options.scope) guard.authorize(context.principal!, options.scope(request));
        return request;
      });
      return handler(call, context);
    }, callback);
  };
  return rpcMethod(bind as Bind);
}

/**
 * Same as `handleUnary` for server-streaming methods (issue #10): the handler yields messages, each written as it
 * comes (waiting for the transport to drain). A failure before the first message is a typed status like a unary
 * refusal; a failure after it ends the stream with that typed status too, so a client never sees a truncated stream
 * end cleanly. The client's cancellation aborts `context.signal`, which stops the producer.
 */
export function handleServerStream<Req, Res>(
  name: string, logger: Logger, handler: (request: Req, context: CallContext) => AsyncIterable<Res>, options: RpcMethodOptions<Req> = {},
): RpcMethod {
  const bind = (guard: CallGuard | undefined) => (call: ServerWritableStream<Req, Res>): void => {
    const context = createCallContext(call);
    let messages = 0;
    run(name, logger, call, context, async () => {
      const request = admission(() => {
        admit(guard, call.metadata, context);
        const decodedRequest = decoded(call.request);
        if (guard && options.scope) guard.authorize(context.principal!, options.scope(decodedRequest));
        return decodedRequest;
      });
      for await (const message of handler(request, context)) {
        messages++;
        if (!call.write(message)) await once(call, 'drain', { signal: context.signal });
      }
      return messages;
    }, (status, _response, trailer) => {
      if (status) call.emit('error', status);
      else call.end(trailer); // a paid stream's receipt (payment-response) rides in the trailer
    });
  };
  return rpcMethod(bind as Bind);
}

/**
 * Same as `handleServerStream` for bidirectional methods (Tee.InferStreamPaid): every client message is checked as it
 * arrives (decoding; scope on the first) before the handler reads it, and the handler writes with `send`, which waits
 * for the transport to drain — so it can answer from a callback (an in-band payment request) while it also waits on
 * the client's messages. A failure ends the stream with its typed status, as for a server stream.
 */
export function handleBidiStream<Req, Res>(
  name: string, logger: Logger,
  handler: (messages: AsyncIterable<Req>, context: CallContext, send: (message: Res) => Promise<void>) => Promise<void>,
  options: RpcMethodOptions<Req> = {},
): RpcMethod {
  const bind = (guard: CallGuard | undefined) => (call: ServerDuplexStream<Req, Res>): void => {
    const context = createCallContext(call);
    let messages = 0;
    const send = async (message: Res) => {
      if (context.signal.aborted) throw new VeilError('cancelled');
      messages++;
      if (!call.write(message)) await once(call, 'drain', { signal: context.signal });
    };
    run(name, logger, call, context, async () => {
      admission(() => admit(guard, call.metadata, context));
      checkMessages(call, (message, index) => {
        const request = decoded(message);
        if (index === 0 && guard && options.scope) guard.authorize(context.principal!, options.scope(request));
        return request;
      });
      await handler(call, context, send);
      return messages;
    }, (status, _response, trailer) => {
      if (status) call.emit('error', status);
      else call.end(trailer);
    });
  };
  return rpcMethod(bind as Bind);
}

/**
 * Binds every method of a service implementation to the server's guard. Refuses a method that is not an `RpcMethod`:
 * it would run without authentication, decoding checks or error classification.
 */
export function bindRpcMethods(service: string, implementation: UntypedServiceImplementation, guard: CallGuard | undefined): UntypedServiceImplementation {
  return Object.fromEntries(Object.entries(implementation).map(([method, fn]) => {
    const bind = (fn as Partial<RpcMethod>)[BIND];
    if (typeof bind !== 'function') throw new Error(`${service}.${method} is not wrapped by handleUnary/handleClientStream/handleServerStream/handleBidiStream`);
    return [method, bind(guard)];
  }));
}

function rpcMethod(bind: Bind): RpcMethod {
  return Object.assign(bind(undefined), { [BIND]: bind });
}

/** Runs the guard on the call's metadata and records who is calling; without a guard (auth off) there is no principal. */
function admit(guard: CallGuard | undefined, metadata: Metadata, context: CallContext): void {
  if (!guard) return;
  const values = metadata.get('authorization');
  if (values.length > 1) throw new VeilError('unauthenticated', 'send exactly one authorization metadata entry');
  context.principal = guard.admit(typeof values[0] === 'string' ? values[0] : undefined);
}

/** grpc-js decodes before the handler; a message it could not decode arrives as an `UndecodableRequest`. */
function decoded<Req>(message: Req | UndecodableRequest): Req {
  if (message instanceof UndecodableRequest) {
    throw new VeilError('invalid_argument', `the request is not a valid protobuf message for ${message.path}`, { details: { decodeError: message.reason } });
  }
  return message;
}

/** Checks each message as grpc-js pushes it into the stream, so every way of reading the stream sees the check. */
function checkMessages<Req>(call: ServerReadableStream<Req, unknown>, check: (message: Req, index: number) => Req): void {
  const push = call.push.bind(call);
  let index = 0;
  call.push = (message: Req | null, encoding?: BufferEncoding) => {
    if (message === null) return push(null, encoding);
    try {
      return push(check(message, index++), encoding);
    } catch (err) {
      call.destroy(err as Error);
      return false;
    }
  };
}

/** Authentication, decoding and scope as one span: what a refused call spent before any handler ran. */
function admission<T>(fn: () => T): T {
  return tracer().startActiveSpan('veil.admission', (span) => {
    try {
      return fn();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: toVeilError(err).code });
      throw err;
    } finally {
      span.end();
    }
  });
}

type TracedCall = { metadata: Metadata; getPath(): string };

function run<Res>(name: string, logger: Logger, call: TracedCall, context: CallContext, body: () => Promise<Res>, callback: (status: ReturnType<typeof toGrpcStatus> | null, response?: Res | null, trailer?: Metadata) => void) {
  // The call's SERVER span, child of the client's (traceparent metadata); the handler, its logs and the worker
  // threads and TEE nodes it reaches all run inside it. Routing metadata only: method, request id, outcome code.
  const { name: spanName, attributes } = grpcServerSpanName(call.getPath());
  const span = tracer().startSpan(spanName, { kind: SpanKind.SERVER, attributes: { ...attributes, 'veil.request_id': context.requestId } }, grpcTraceContext(call.metadata));
  otelContext.with(trace.setSpan(otelContext.active(), span), () => runTraced(name, logger, context, body, callback, span));
}

function runTraced<Res>(
  name: string, logger: Logger, context: CallContext, body: () => Promise<Res>,
  callback: (status: ReturnType<typeof toGrpcStatus> | null, response?: Res | null, trailer?: Metadata) => void, span: Span,
) {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  void Promise.resolve()
    .then(body)
    .then(
      (response) => {
        const ms = elapsed();
        recordRpc(name, 'ok', ms);
        span.setAttribute('veil.code', 'ok');
        logger.debug('rpc ok', { rpc: name, requestId: context.requestId, principal: context.principal, ms });
        if (context.payment.response) {
          const trailer = new Metadata();
          trailer.set('payment-response', context.payment.response);
          callback(null, response, trailer);
        } else {
          callback(null, response);
        }
      },
      (err: unknown) => {
        const error = toVeilError(err);
        const fields = {
          rpc: name, requestId: context.requestId, principal: context.principal, code: error.code, ms: elapsed(),
          reason: error.details ? JSON.stringify(error.details) : undefined,
        };
        recordRpc(name, error.code, fields.ms);
        // The stable code only: a message may describe what the client sent.
        span.setAttribute('veil.code', error.code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
        if (error.code === 'internal') {
          const cause = error.cause;
          logger.error('rpc failed', { ...fields, cause: cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause) });
        } else {
          logger.info('rpc refused', fields);
        }
        const status = toGrpcStatus(error);
        status.metadata.set('x-request-id', context.requestId);
        callback(status, null);
      },
    )
    .finally(() => {
      if (context.principal !== undefined) span.setAttribute('veil.principal', context.principal);
      span.end();
      context.dispose();
    });
}
