import { status } from '@grpc/grpc-js';
import { ERROR_SPECS, type ErrorCode } from './error-codes';
import { VeilError } from './veil-error';
import { toVeilError } from './to-veil-error';
import { toGrpcStatus } from './to-grpc-status';
import { toOpenAIError } from './to-openai-error';

// The gRPC→HTTP mapping every code must agree with (the standard gRPC-over-HTTP table, 499 for CANCELLED; 415 for a
// body of the wrong content-type, which gRPC, having one content-type, never sees).
const HTTP_FOR_GRPC: Record<number, number[]> = {
  [status.INVALID_ARGUMENT]: [400, 415],
  [status.ALREADY_EXISTS]: [409],
  [status.NOT_FOUND]: [404],
  // 402: a call that must be paid (x402 over HTTP; FAILED_PRECONDITION plus the payment-required trailer on gRPC).
  [status.FAILED_PRECONDITION]: [400, 402],
  // A concurrent retry of a request id that is still running (the gRPC "retry at a higher level" code).
  [status.ABORTED]: [409],
  [status.RESOURCE_EXHAUSTED]: [413, 429],
  [status.UNAVAILABLE]: [503],
  [status.CANCELLED]: [499],
  [status.DEADLINE_EXCEEDED]: [504],
  [status.INTERNAL]: [500],
  // A sealed stream that arrived damaged: the upstream answer was bad (502), as a relaying HTTP server says it.
  [status.DATA_LOSS]: [500, 502],
  [status.UNAUTHENTICATED]: [401],
  [status.PERMISSION_DENIED]: [403],
};

describe('error registry', () => {
  test.each(Object.keys(ERROR_SPECS) as ErrorCode[])('%s maps consistently to gRPC, HTTP and the OpenAI shape', (code) => {
    const spec = ERROR_SPECS[code];
    expect(HTTP_FOR_GRPC[spec.grpc]).toContain(spec.http);
    const grpc = toGrpcStatus(new VeilError(code));
    expect(grpc.code).toBe(spec.grpc);
    expect(grpc.metadata.get('veil-error-code')).toEqual([code]);
    const http = toOpenAIError(new VeilError(code, undefined, { param: 'model_id' }));
    expect(http).toEqual({ status: spec.http, body: { error: { message: spec.message, type: spec.type, param: 'model_id', code } } });
  });

  test('unknown errors become internal and never leak their message', () => {
    const leaky = new Error('ENOENT /secret/path/sk.bin');
    const grpc = toGrpcStatus(leaky);
    expect(grpc.code).toBe(status.INTERNAL);
    expect(grpc.details).toBe('internal error');
    expect(toOpenAIError('boom').body.error).toEqual({ message: 'internal error', type: 'server_error', param: null, code: 'internal' });
    expect(toVeilError(leaky).cause).toBe(leaky);
  });

  test('an internal error never passes its own message to a client, whatever carries it (issue #9 point 11)', () => {
    const secret = 'connect ECONNREFUSED postgres://veil:hunter2@10.0.0.5/keys';
    const internals = [
      new VeilError('internal', secret),
      Object.assign(new Error(secret), { code: 'internal' }),
      new VeilError('internal', secret, { cause: new Error('deeper') }),
    ];
    for (const err of internals) {
      const grpc = toGrpcStatus(err);
      expect(grpc).toMatchObject({ code: status.INTERNAL, details: 'internal error' });
      expect(grpc.metadata.get('veil-error-code')).toEqual(['internal']);
      expect(toOpenAIError(err).body.error.message).toBe('internal error');
      const classified = toVeilError(err);
      expect(classified.message).toBe('internal error');
      expect(classified.cause).toBe(err); // the detail stays server-side, for the log
    }
  });

  test('the auth codes map to 401, 403 and a retryable 429', () => {
    expect(toGrpcStatus(new VeilError('unauthenticated')).code).toBe(status.UNAUTHENTICATED);
    expect(toOpenAIError(new VeilError('permission_denied')).status).toBe(403);
    expect(ERROR_SPECS.rate_limited).toMatchObject({ grpc: status.RESOURCE_EXHAUSTED, http: 429, type: 'rate_limit_error', retryable: true });
  });

  test('leaf errors keep their safe message under a public code', () => {
    const leaf = Object.assign(new Error('ciphertext 2 was made under other encryption parameters'), { code: 'invalid_ciphertext' });
    expect(toVeilError(leaf)).toMatchObject({ code: 'invalid_ciphertext', message: leaf.message });
    const compile = Object.assign(new Error('node "relu1" (Relu): not a polynomial'), { code: 'model_unsupported' });
    expect(toVeilError(compile).code).toBe('model_unsupported');
    expect(toVeilError(Object.assign(new Error('x'), { code: 'EWHATEVER' })).code).toBe('internal');
  });

  test('TEE node refusals keep their code; routing failures are retryable UNAVAILABLE', () => {
    const tee = (code: string) => Object.assign(new Error(`tee ${code}`), { name: 'TeeError', code });
    expect(toVeilError(tee('tee_replay'))).toMatchObject({ code: 'tee_replay', message: 'tee tee_replay' });
    expect(toGrpcStatus(tee('tee_replay')).code).toBe(status.INVALID_ARGUMENT);
    expect(toGrpcStatus(tee('tee_stale_request')).code).toBe(status.FAILED_PRECONDITION);
    expect(toGrpcStatus(tee('tee_decrypt_failed')).code).toBe(status.INVALID_ARGUMENT);
    expect(toVeilError(tee('tee_model_not_found')).code).toBe('model_not_found');
    expect(toVeilError(tee('invalid_input')).code).toBe('invalid_argument');
    expect(ERROR_SPECS.no_attested_worker).toMatchObject({ grpc: status.UNAVAILABLE, http: 503, retryable: true });
    expect(ERROR_SPECS.tee_node_unavailable).toMatchObject({ grpc: status.UNAVAILABLE, http: 503, retryable: true });
  });

  test('pool and abort failures map to retryable or cancelled codes', () => {
    expect(toVeilError(new Error('Task queue is at limit')).code).toBe('overloaded');
    const abort = new Error('aborted');
    abort.name = 'AbortError';
    expect(toVeilError(abort).code).toBe('cancelled');
  });
});
