import type { ServerReadableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { withSpan } from '../with-span';
import type {
  CloseSessionRequest, CreateSessionRequest, CreateSessionResponse, PredictRequest, PredictResponse,
} from '../../proto';
import { MIN_KEY_CHUNK_BYTES } from '../../proto';
import { evaluationKeySizes } from '../../fhe';
import type { FhePool, SharedSessionKeys } from '../../workers';
import { VeilError } from '../errors';
import type { Logger } from '../logger';
import type { ServedFheModel, ServedFheVariant } from '../models/load-fhe-models';
import { readUploadStream } from '../fhe/read-upload-stream';
import type { SessionStore } from '../fhe/session-store';
import { UploadSlots } from '../fhe/upload-slots';
import { callerKey, type CallContext } from './call-context';
import { handleClientStream, handleUnary } from './handle-call';
import { requireModel, requireVariant } from './models-service';
import { chargeCall, type GatewayPayments } from '../payments';
import { recordFheGroups } from '../telemetry/fhe-metrics';

export type FheServiceOptions = {
  models: ReadonlyMap<string, ServedFheModel>;
  sessions: SessionStore;
  pool: FhePool;
  logger: Logger;
  maxSessionKeyBytes: number;
  maxGroupsPerRequest: number;
  sessionTtlSeconds: number;
  maxConcurrentUploads: number;
  maxUploadsPerCaller: number;
  uploadIdleTimeoutMs: number;
  uploadTimeoutSeconds: number;
  /** Paid predictions (issue #11): each costs its model's perCall + perCiphertextGroup × groups. Absent: free. */
  payments?: GatewayPayments;
};

/** Empty key chunks a client may send (harmless keep-alives) before the upload is refused. */
export const MAX_EMPTY_CHUNKS = 4;

type UploadStream = AsyncIterable<CreateSessionRequest>;

/** The Fhe methods as plain functions of (request, context): what the gRPC service wraps, and what tests call. */
export type FheHandlers = {
  createSession(call: UploadStream, context: CallContext): Promise<CreateSessionResponse>;
  predict(request: PredictRequest, context: CallContext): Promise<PredictResponse>;
  closeSession(request: CloseSessionRequest, context: CallContext): Promise<Record<string, never>>;
};

/**
 * veil.v1.Fhe: key upload, encrypted prediction, session close. Payload bytes are never logged or traced. Pass the
 * `handlers` the HTTP routes use (gateway/http/register-fhe-routes.ts) so both surfaces share one set of upload slots.
 */
export function createFheService(options: FheServiceOptions, handlers: FheHandlers = createFheHandlers(options)): UntypedServiceImplementation {
  const { logger } = options;
  return {
    CreateSession: handleClientStream<CreateSessionRequest, CreateSessionResponse>('CreateSession', logger, (call: ServerReadableStream<CreateSessionRequest, CreateSessionResponse>, context) =>
      handlers.createSession(call, context), { scope: (first) => ({ mode: 'fhe', model: first.header?.modelId }) }),
    Predict: handleUnary<PredictRequest, PredictResponse>('Predict', logger, (request, context) =>
      withSpan('veil.fhe.predict', async (span) => {
        const response = await handlers.predict(request, context);
        span.setAttribute('veil.groups', response.groups.length);
        return response;
      }),
      // The session's model was checked against the key when the session was opened.
      { scope: () => ({ mode: 'fhe' }) },
    ),
    CloseSession: handleUnary<CloseSessionRequest, Record<string, never>>('CloseSession', logger, handlers.closeSession, { scope: () => ({ mode: 'fhe' }) }),
  };
}

/**
 * A session belongs to the principal (API key) that created it: to any other principal it answers `session_not_found`
 * exactly as an unknown id does. Key uploads hold an upload slot (global and per caller) from the first message to
 * the answer; the session — and any eviction of other sessions it causes — exists only once a worker has loaded
 * and so validated its keys.
 */
export function createFheHandlers(options: FheServiceOptions): FheHandlers {
  const { models, sessions, pool, logger } = options;
  const slots = new UploadSlots(options.maxConcurrentUploads, options.maxUploadsPerCaller);
  return {
    async createSession(call, context) {
      const release = slots.acquire(callerKey(context));
      let key: number | undefined;
      try {
        const { served, keys, received } = await receiveKeys(call, context, options);
        key = pool.newSessionKey();
        await pool.loadKeys({ planKey: served.planKey, session: key, keys });
        if (context.signal.aborted) throw new VeilError('cancelled', 'the client cancelled the key upload');
        const session = sessions.create({
          key, modelId: served.modelId, variant: served.variant, keys, owner: context.principal, caller: callerKey(context),
        });
        key = undefined; // the store owns it now; its eviction tells the workers
        logger.info('fhe session created', { session: session.key, model: served.modelId, variant: served.variant, keyBytes: received });
        return { sessionId: session.id, bytesReceived: received, ttlSeconds: options.sessionTtlSeconds };
      } finally {
        // Refused after a worker may have cached the keys (invalid, cancelled): make sure no worker keeps them.
        if (key !== undefined) pool.forgetSession(key);
        release();
      }
    },

    async predict(request, context) {
      if (!request.sessionId) throw new VeilError('invalid_argument', 'session_id is required', { param: 'session_id' });
      const session = sessions.use(request.sessionId, context.principal);
      const served = requireVariant(requireModel(models, session.modelId), session.variant);
      const groups = request.groups ?? [];
      if (groups.length === 0) throw new VeilError('invalid_argument', 'at least one ciphertext group is required', { param: 'groups' });
      if (groups.length > options.maxGroupsPerRequest) {
        throw new VeilError('invalid_argument', `at most ${options.maxGroupsPerRequest} groups per request, got ${groups.length}`, { param: 'groups' });
      }
      const evaluate = async (): Promise<PredictResponse> => {
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
          session: session.key,
          keys: session.keys,
          groups: groups.map((g) => g.ciphertexts),
          signal: context.signal,
          deadline: context.deadline,
        });
        recordFheGroups(served.modelId, served.variant, groups.length);
        return { groups: result.groups.map((ciphertexts) => ({ ciphertexts })), evalMicros: result.evalMicros };
      };
      // Paid before anything about the ciphertexts is looked at; a refusal inside evaluate releases the reservation.
      const usage = { calls: 1, ciphertextGroups: groups.length };
      return chargeCall(options.payments, context, { resource: `fhe:${served.modelId}`, modelId: served.modelId, ceilingUsage: usage }, async () => ({ value: await evaluate(), usage }));
    },

    async closeSession(request, context) {
      if (!request.sessionId) throw new VeilError('invalid_argument', 'session_id is required', { param: 'session_id' });
      if (!sessions.close(request.sessionId, context.principal)) throw new VeilError('session_not_found', undefined, { param: 'session_id' });
      return {};
    },
  };
}

/**
 * Reads a CreateSession stream: a header declaring the key sizes, which must be exactly the sizes the variant's spec
 * implies (`evaluationKeySizes`) — checked before any chunk is accepted — then chunks filling exactly those sizes.
 * Memory grows only with bytes actually received; the keys are copied once into SharedArrayBuffers at the end.
 */
async function receiveKeys(call: UploadStream, context: CallContext, options: FheServiceOptions): Promise<{ served: ServedFheVariant; keys: SharedSessionKeys; received: number }> {
  const stream = readUploadStream(call, {
    signal: context.signal,
    clientDeadline: context.deadline,
    idleTimeoutMs: options.uploadIdleTimeoutMs,
    deadline: Date.now() + options.uploadTimeoutSeconds * 1000,
  });
  try {
    const first = await stream.next();
    const header = first?.header;
    if (!header) throw new VeilError('invalid_argument', 'the first CreateSession message must be the header', { param: 'header' });
    const model = requireModel(options.models, header.modelId);
    const served = requireVariant(model, header.variant);
    const { spec } = served.plan;
    if (header.specSha256 && header.specSha256 !== served.specSha256) {
      throw new VeilError('invalid_keys', 'the keys were made for a different spec of this model; fetch the spec again', { param: 'header.spec_sha256' });
    }
    const expected = evaluationKeySizes(spec);
    const declared = { galois: header.galoisKeysBytes, relin: header.relinKeysBytes };
    if (declared.galois + declared.relin > options.maxSessionKeyBytes) {
      throw new VeilError('message_too_large', `evaluation keys of ${declared.galois + declared.relin} bytes exceed the limit of ${options.maxSessionKeyBytes}`, { param: 'header' });
    }
    for (const [kind, field, what] of [['galois', 'galois_keys_bytes', 'Galois keys'], ['relin', 'relin_keys_bytes', 'relinearisation keys']] as const) {
      const want = kind === 'galois' ? expected.galoisKeys : expected.relinKeys;
      if (declared[kind] === want) continue;
      const need = kind === 'galois'
        ? (want === 0 ? 'needs no Galois keys' : `needs Galois keys for steps [${spec.galoisSteps.join(', ')}]: exactly ${want} bytes (seeded, uncompressed)`)
        : (want === 0 ? 'needs no relinearisation keys' : `needs relinearisation keys: exactly ${want} bytes (seeded, uncompressed)`);
      throw new VeilError('invalid_keys', `model "${model.id}" variant ${served.variant} ${need}; the header declares ${declared[kind]} bytes of ${what}`, { param: `header.${field}` });
    }

    const parts = { galois: [] as Uint8Array[], relin: [] as Uint8Array[] };
    const filled = { galois: 0, relin: 0 };
    let empty = 0;
    let short: { index: number; bytes: number } | undefined;
    for (let index = 1; ; index++) {
      const message = await stream.next();
      if (!message) break;
      const chunk = message.chunk;
      if (!chunk) throw new VeilError('invalid_argument', `message ${index} must be a key chunk`, { param: 'chunk' });
      const kind = chunk.kind === 'KIND_GALOIS' ? 'galois' : chunk.kind === 'KIND_RELIN' ? 'relin' : undefined;
      if (!kind) throw new VeilError('invalid_argument', `message ${index}: chunk kind must be KIND_GALOIS or KIND_RELIN`, { param: 'chunk.kind' });
      const data = chunk.data ?? new Uint8Array(0);
      if (data.byteLength === 0) {
        if (++empty > MAX_EMPTY_CHUNKS) throw new VeilError('invalid_argument', `message ${index}: more than ${MAX_EMPTY_CHUNKS} empty key chunks`, { param: 'chunk.data' });
        continue;
      }
      if (filled[kind] + data.byteLength > declared[kind]) {
        throw new VeilError('invalid_argument', `message ${index}: more ${kind} key bytes than the header declared`, { param: 'chunk.data' });
      }
      // A short chunk is fine as the last message (a truncated upload is then reported with its byte counts below);
      // any message after one is refused, so a tiny-chunk upload costs one message, not tens of thousands.
      if (short) throw new VeilError('invalid_argument', `message ${short.index}: a key chunk must hold at least ${MIN_KEY_CHUNK_BYTES} bytes unless it completes its key (got ${short.bytes})`, { param: 'chunk.data' });
      if (data.byteLength < MIN_KEY_CHUNK_BYTES && filled[kind] + data.byteLength < declared[kind]) short = { index, bytes: data.byteLength };
      parts[kind].push(data);
      filled[kind] += data.byteLength;
    }
    if (filled.galois !== declared.galois || filled.relin !== declared.relin) {
      await stream.confirmEnd(); // a cancel, not a truncated upload, if the client reset the stream
      throw new VeilError('invalid_argument', `the stream ended before all declared key bytes arrived (galois ${filled.galois}/${declared.galois}, relin ${filled.relin}/${declared.relin})`, { param: 'chunk' });
    }
    const keys: SharedSessionKeys = {};
    if (filled.galois > 0) keys.galoisKeys = concatShared(parts.galois, filled.galois);
    if (filled.relin > 0) keys.relinKeys = concatShared(parts.relin, filled.relin);
    return { served, keys, received: filled.galois + filled.relin };
  } finally {
    stream.close();
  }
}

function concatShared(parts: readonly Uint8Array[], total: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(total);
  const view = new Uint8Array(sab);
  let offset = 0;
  for (const p of parts) {
    view.set(p, offset);
    offset += p.byteLength;
  }
  return sab;
}
