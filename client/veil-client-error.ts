import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';

/** An error from the gateway (with its stable Veil code) or from the client side of a call. */
export class VeilClientError extends Error {
  override name = 'VeilClientError' as const;
  constructor(
    /** The gateway's stable error code (e.g. `session_not_found`), or a client-side code. */
    readonly code: string,
    message: string,
    readonly grpcStatus?: number,
    readonly param?: string,
    /** Over HTTP: the gateway's status and OpenAI error type, so a proxy relays them unchanged. */
    extra?: { httpStatus?: number; type?: string; cause?: unknown },
  ) {
    super(message, extra?.cause === undefined ? undefined : { cause: extra.cause });
    this.httpStatus = extra?.httpStatus;
    this.type = extra?.type;
  }

  readonly httpStatus: number | undefined;
  readonly type: string | undefined;
}

/** Reads the gateway's `veil-error-code` trailer; falls back to the gRPC status name for non-Veil servers. */
export function fromServiceError(err: ServiceError): VeilClientError {
  const code = err.metadata?.get('veil-error-code')[0];
  const param = err.metadata?.get('veil-error-param')[0];
  const fallback = (GrpcStatus[err.code] ?? 'unknown').toLowerCase();
  return new VeilClientError(
    typeof code === 'string' ? code : fallback,
    err.details || err.message,
    err.code,
    typeof param === 'string' ? param : undefined,
  );
}
