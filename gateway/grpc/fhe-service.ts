import type { ServerReadableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { withSpan } from '../with-span';
import type {
  CloseSessionRequest, CreateSessionRequest, CreateSessionResponse, PredictRequest, PredictResponse,
} from '../../proto';
import type { FhePool } from '../../workers';
import { VeilError } from '../errors';
import type { Logger } from '../logger';
import type { ServedFheModel, ServedFheVariant } from '../models/load-fhe-models';
import type { SessionStore } from '../fhe/session-store';
import type { CallContext } from './call-context';
import { handleClientStream, handleUnary } from './handle-call';
import { requireModel, requireVariant } from './models-service';

export type FheServiceOptions = {
  models: ReadonlyMap<string, ServedFheModel>;
  sessions: SessionStore;
  pool: FhePool;
  logger: Logger;
  maxSessionKeyBytes: number;
  maxGroupsPerRequest: number;
  sessionTtlSeconds: number;
};

/** veil.v1.Fhe: key upload, encrypted prediction, session close. Payload bytes are never logged or traced. */
export function createFheService(options: FheServiceOptions): UntypedServiceImplementation {
  const { models, sessions, pool, logger } = options;
  return {
    CreateSession: handleClientStream<CreateSessionRequest, CreateSessionResponse>('CreateSession', logger, async (call) => {
      const { served, galoisKeys, relinKeys, received } = await receiveKeys(call, options);
      const { modelId, variant, planKey } = served;
      const session = sessions.create(modelId, variant, { galoisKeys, relinKeys });
      // Load the keys in a worker now: malformed keys are refused here rather than at the first prediction.
      try {
        await pool.loadKeys({ planKey, sessionId: session.id, keys: session.keys });
      } catch (err) {
        sessions.close(session.id);
        throw err;
      }
      logger.info('fhe session created', { sessionId: session.id, model: modelId, variant, keyBytes: received });
      return { sessionId: session.id, bytesReceived: received, ttlSeconds: options.sessionTtlSeconds };
    }, { scope: (first) => ({ mode: 'fhe', model: first.header?.modelId }) }),

    Predict: handleUnary<PredictRequest, PredictResponse>('Predict', logger, (request, context) =>
      withSpan('veil.fhe.predict', async (span) => {
        const response = await predict(request, context);
        span.setAttribute('veil.groups', response.groups.length);
        return response;
      }),
      // The session's model was checked against the key when the session was opened.
      { scope: () => ({ mode: 'fhe' }) },
    ),

    CloseSession: handleUnary<CloseSessionRequest, Record<string, never>>('CloseSession', logger, async (request) => {
      if (!request.sessionId) throw new VeilError('invalid_argument', 'session_id is required', { param: 'session_id' });
      if (!sessions.close(request.sessionId)) throw new VeilError('session_not_found', undefined, { param: 'session_id' });
      return {};
    }, { scope: () => ({ mode: 'fhe' }) }),
  };

  async function predict(request: PredictRequest, context: CallContext): Promise<PredictResponse> {
    if (!request.sessionId) throw new VeilError('invalid_argument', 'session_id is required', { param: 'session_id' });
    const session = sessions.use(request.sessionId);
    const served = requireVariant(requireModel(models, session.modelId), session.variant);
    const groups = request.groups ?? [];
    if (groups.length === 0) throw new VeilError('invalid_argument', 'at least one ciphertext group is required', { param: 'groups' });
    if (groups.length > options.maxGroupsPerRequest) {
      throw new VeilError('invalid_argument', `at most ${options.maxGroupsPerRequest} groups per request, got ${groups.length}`, { param: 'groups' });
    }
    const expected = served.plan.spec.inputCiphertexts;
    groups.forEach((group, i) => {
      const count = group.ciphertexts?.length ?? 0;
      if (count !== expected) {
        throw new VeilError('invalid_argument', `groups[${i}] must hold ${expected} ciphertext(s), got ${count}`, { param: `groups[${i}]` });
      }
      group.ciphertexts.forEach((c, j) => {
        if (c.byteLength === 0) throw new VeilError('invalid_ciphertext', `groups[${i}].ciphertexts[${j}] is empty`, { param: `groups[${i}].ciphertexts[${j}]` });
      });
    });
    const result = await pool.predict({
      planKey: served.planKey,
      sessionId: session.id,
      keys: session.keys,
      groups: groups.map((g) => g.ciphertexts),
      signal: context.signal,
      deadline: context.deadline,
    });
    return { groups: result.groups.map((ciphertexts) => ({ ciphertexts })), evalMicros: result.evalMicros };
  }
}

/**
 * Reads a CreateSession stream: a header declaring the key sizes (checked against limits before any chunk
 * is accepted), then chunks filling exactly those sizes. Buffers are allocated once from the declared sizes.
 */
async function receiveKeys(call: ServerReadableStream<CreateSessionRequest, CreateSessionResponse>, options: FheServiceOptions) {
  let model: ServedFheModel | undefined;
  let served: ServedFheVariant | undefined;
  let galoisKeys: Uint8Array | undefined;
  let relinKeys: Uint8Array | undefined;
  const filled = { galois: 0, relin: 0 };
  let index = 0;
  for await (const message of call as AsyncIterable<CreateSessionRequest>) {
    if (index === 0) {
      const header = message.header;
      if (!header) throw new VeilError('invalid_argument', 'the first CreateSession message must be the header', { param: 'header' });
      model = requireModel(options.models, header.modelId);
      served = requireVariant(model, header.variant);
      const { spec } = served.plan;
      if (header.specSha256 && header.specSha256 !== served.specSha256) {
        throw new VeilError('invalid_keys', 'the keys were made for a different spec of this model; fetch the spec again', { param: 'header.spec_sha256' });
      }
      const total = header.galoisKeysBytes + header.relinKeysBytes;
      if (total > options.maxSessionKeyBytes) {
        throw new VeilError('message_too_large', `evaluation keys of ${total} bytes exceed the limit of ${options.maxSessionKeyBytes}`, { param: 'header' });
      }
      if (spec.galoisSteps.length > 0 && header.galoisKeysBytes === 0) {
        throw new VeilError('invalid_keys', `model "${model.id}" needs Galois keys for steps [${spec.galoisSteps.join(', ')}]`, { param: 'header.galois_keys_bytes' });
      }
      if (spec.needsRelinKeys && header.relinKeysBytes === 0) {
        throw new VeilError('invalid_keys', `model "${model.id}" needs relinearisation keys`, { param: 'header.relin_keys_bytes' });
      }
      galoisKeys = header.galoisKeysBytes > 0 ? new Uint8Array(header.galoisKeysBytes) : undefined;
      relinKeys = header.relinKeysBytes > 0 ? new Uint8Array(header.relinKeysBytes) : undefined;
    } else {
      const chunk = message.chunk;
      if (!chunk) throw new VeilError('invalid_argument', `message ${index} must be a key chunk`, { param: 'chunk' });
      const kind = chunk.kind === 'KIND_GALOIS' ? 'galois' : chunk.kind === 'KIND_RELIN' ? 'relin' : undefined;
      if (!kind) throw new VeilError('invalid_argument', `message ${index}: chunk kind must be KIND_GALOIS or KIND_RELIN`, { param: 'chunk.kind' });
      const target = kind === 'galois' ? galoisKeys : relinKeys;
      if (!target || filled[kind] + chunk.data.byteLength > target.byteLength) {
        throw new VeilError('invalid_argument', `message ${index}: more ${kind} key bytes than the header declared`, { param: 'chunk.data' });
      }
      target.set(chunk.data, filled[kind]);
      filled[kind] += chunk.data.byteLength;
    }
    index++;
  }
  if (!model || !served) throw new VeilError('invalid_argument', 'CreateSession needs a header message', { param: 'header' });
  if (filled.galois !== (galoisKeys?.byteLength ?? 0) || filled.relin !== (relinKeys?.byteLength ?? 0)) {
    throw new VeilError('invalid_argument', `the stream ended before all declared key bytes arrived (galois ${filled.galois}/${galoisKeys?.byteLength ?? 0}, relin ${filled.relin}/${relinKeys?.byteLength ?? 0})`, { param: 'chunk' });
  }
  return { served, galoisKeys, relinKeys, received: filled.galois + filled.relin };
}
