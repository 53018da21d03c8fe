import type { sendUnaryData, ServerReadableStream, ServerUnaryCall } from '@grpc/grpc-js';
import { toGrpcStatus, toVeilError } from '../errors';
import type { Logger } from '../logger';
import { recordRpc } from '../telemetry/rpc-metrics';
import { createCallContext, type CallContext } from './call-context';

type Handler<Req, Res> = (request: Req, context: CallContext) => Promise<Res>;

/**
 * Wraps a unary method so every outcome is classified once: success, or a `VeilError` encoded as a gRPC
 * status with a safe message. Internal detail (the cause) is logged with the request id, never sent.
 */
export function handleUnary<Req, Res>(name: string, logger: Logger, handler: Handler<Req, Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    const context = createCallContext(call);
    run(name, logger, context, () => handler(call.request, context), callback);
  };
}

/** Same as `handleUnary` for client-streaming methods: the handler consumes the stream itself. */
export function handleClientStream<Req, Res>(name: string, logger: Logger, handler: Handler<ServerReadableStream<Req, Res>, Res>) {
  return (call: ServerReadableStream<Req, Res>, callback: sendUnaryData<Res>): void => {
    const context = createCallContext(call);
    run(name, logger, context, () => handler(call, context), callback);
  };
}

function run<Res>(name: string, logger: Logger, context: CallContext, body: () => Promise<Res>, callback: sendUnaryData<Res>) {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  void Promise.resolve()
    .then(body)
    .then(
      (response) => {
        const ms = elapsed();
        recordRpc(name, 'ok', ms);
        logger.debug('rpc ok', { rpc: name, requestId: context.requestId, ms });
        callback(null, response);
      },
      (err: unknown) => {
        const error = toVeilError(err);
        const fields = { rpc: name, requestId: context.requestId, code: error.code, ms: elapsed(), reason: error.details ? JSON.stringify(error.details) : undefined };
        recordRpc(name, error.code, fields.ms);
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
    .finally(() => context.dispose());
}
