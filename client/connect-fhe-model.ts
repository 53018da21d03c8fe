import {
  applyPostprocess, chooseFheVariant, createCkksRuntime, createFheClientKeys, DEFAULT_FHE_VARIANT, isFheVariant, loadSeal,
  packInputs, protectDecryptedOutputs, unpackOutputs, type CkksRuntime, type FheClientKeys, type FheModelSpec, type FheVariant,
  type OutputPrecision,
} from '../fhe';
import { randomUUID } from 'node:crypto';
import type { FheGatewayClient } from './create-http-fhe-client';
import { isUnavailable } from './retry-unavailable';
import { VeilClientError } from './veil-client-error';

export type ConnectFheModelParameters = {
  /** The gateway: `createVeilClient` (gRPC) or `createHttpFheClient` (HTTP, gateway/http/FHE-HTTP.md). */
  client: FheGatewayClient;
  modelId: string;
  /**
   * Which FHE compilation to use: a fixed variant, or `auto` (default) to pick per call by batch size among those
   * the gateway serves (`chooseFheVariant`): `expanded` for one or two samples, `feature-major` for large batches,
   * `blocks` in between. Keys for a variant are generated and uploaded the first time it is used.
   */
  variant?: FheVariant | 'auto';
  /** Ciphertext groups per Predict call (the gateway spreads one call's groups over its workers). */
  groupsPerRequest?: number;
  /** Predict calls in flight at once for large batches. */
  concurrency?: number;
  deadlineMs?: number;
  /**
   * What happens to decrypted outputs before they are returned. Default: Gaussian noise of σ = 2^-14 added, then
   * rounded to a 2^-12 grid (changes a logit by ≲ 5e-4), so exact CKKS noise never leaves this object: exact
   * decrypted values let whoever holds the ciphertexts recover the secret key (IND-CPA^D; see
   * fhe/protect-decrypted-outputs.ts). `'full'` returns raw decryptions (only if they never reach the server).
   */
  outputPrecision?: OutputPrecision;
};

export type FhePrediction = {
  /** Decrypted model outputs before the final activation, one Float64Array per sample. */
  logits: Float64Array[];
  /** After the spec's postprocess (sigmoid / softmax / argmax / none), applied locally. */
  outputs: (Float64Array | number)[];
  /** The variant this call used. */
  variant: FheVariant;
  bytesUploaded: number;
  bytesDownloaded: number;
  /** Worker evaluation time reported by the gateway, summed over calls. */
  evalMicros: number;
};

export type FheModelClient = {
  modelId: string;
  /** Variants the gateway serves for this model. */
  variants: FheVariant[];
  /** The primary variant's spec (the fixed variant, or `blocks` under `auto`). */
  spec: FheModelSpec;
  /**
   * The session id for a variant (default: the primary), opening it — key generation and upload — if needed. A fixed
   * variant's session is opened at connect; under `auto` each variant's session opens the first time it is used.
   */
  session(variant?: FheVariant): Promise<string>;
  /** Evaluation-key bytes uploaded so far, over every variant used (re-established sessions included). */
  keyBytes: number;
  /** Sessions opened again because the replica holding one went away or no longer had it. */
  reestablished: number;
  /**
   * `idempotencyKey`: the call's retry key (default: a fresh one). Pass the same key when retrying a failed call
   * yourself, so a paid call whose first attempt was charged is answered from that receipt instead of charged again.
   */
  predict(samples: ArrayLike<number>[], options?: { signal?: AbortSignal; variant?: FheVariant; idempotencyKey?: string }): Promise<FhePrediction>;
  close(): Promise<void>;
};

type VariantSession = {
  variant: FheVariant; spec: FheModelSpec; runtime: CkksRuntime; keys: FheClientKeys; sessionId: string; keyBytes: number;
  /** A new session being opened for this variant after the old one was lost (shared by the calls that noticed). */
  reopening?: Promise<string>;
};

/**
 * The replica holding the session is gone (UNAVAILABLE, or a balancer's 502/503 for it) or does not hold it (another
 * replica, or it restarted): the keys this client still holds can open a new session and the call can be sent again.
 */
function isSessionLost(err: unknown): boolean {
  const code = (err as VeilClientError | undefined)?.code;
  return code === 'session_not_found' || code === 'http_502' || code === 'http_503' || isUnavailable(err);
}

/**
 * Connects to one model for encrypted inference: fetches its public specs, generates CKKS key pairs locally (secret
 * keys never leave this object), uploads only the evaluation keys each used plan needs, and then encrypts, predicts
 * and decrypts — batching samples into ciphertext groups transparently.
 *
 * @example
 * const client = createVeilClient({ target: '127.0.0.1:50051' });
 * const model = await connectFheModel({ client, modelId: 'breast-cancer-lr' });
 * const { outputs } = await model.predict([features]); // outputs[0] = probability of class 1
 * await model.close();
 */
export async function connectFheModel(params: ConnectFheModelParameters): Promise<FheModelClient> {
  const { client, modelId } = params;
  const mode = params.variant ?? 'auto';
  const info = (await client.listModels({ deadlineMs: params.deadlineMs })).models.find((m) => m.id === modelId);
  if (!info || !info.modes.includes('fhe')) throw new VeilClientError('model_not_found', `the gateway serves no FHE model "${modelId}"`);
  const offered = info.fheVariants.filter(isFheVariant);
  const wanted = mode === 'auto' ? offered : [mode];
  if (mode !== 'auto' && !offered.includes(mode)) {
    throw new VeilClientError('invalid_argument', `model "${modelId}" is not served in FHE variant "${mode}"; served: ${offered.join(', ')}`);
  }
  const specs: Partial<Record<FheVariant, { spec: FheModelSpec; sha256: string }>> = {};
  for (const variant of wanted) {
    const r = await client.getFheSpec(modelId, { deadlineMs: params.deadlineMs }, variant);
    specs[variant] = { spec: JSON.parse(r.specJson) as FheModelSpec, sha256: r.specSha256 };
  }
  protectDecryptedOutputs(new Float64Array(0), params.outputPrecision); // refuses a bad setting now, not at the first predict
  const seal = await loadSeal();
  const sessions = new Map<FheVariant, Promise<VariantSession>>();
  const opened: VariantSession[] = [];
  let reestablished = 0;

  /** Uploads a variant's evaluation keys (made afresh from the key pair held here; the secret key never leaves). */
  const upload = (variant: FheVariant, keys: FheClientKeys) => {
    const evaluation = keys.evaluationKeys();
    return client.createFheSession(
      { modelId, variant, specSha256: specs[variant]!.sha256, galoisKeys: evaluation.galoisKeys, relinKeys: evaluation.relinKeys },
      { deadlineMs: params.deadlineMs },
    );
  };
  /** Opens a new session in place of `lost`, once however many calls noticed; a caller that lost an older one gets the current. */
  const reestablish = (s: VariantSession, lost: string): Promise<string> => {
    if (s.sessionId !== lost) return Promise.resolve(s.sessionId);
    s.reopening ??= upload(s.variant, s.keys).then((created) => {
      s.sessionId = created.sessionId;
      s.keyBytes += created.bytesReceived;
      reestablished++;
      return created.sessionId;
    }).finally(() => {
      s.reopening = undefined;
    });
    return s.reopening;
  };

  const open = (variant: FheVariant): Promise<VariantSession> => {
    let pending = sessions.get(variant);
    if (!pending) {
      pending = (async () => {
        const { spec } = specs[variant]!;
        const runtime = createCkksRuntime(seal, spec.params);
        let keys: FheClientKeys | undefined;
        try {
          keys = createFheClientKeys(runtime, spec);
          const session = await upload(variant, keys);
          const s: VariantSession = { variant, spec, runtime, keys, sessionId: session.sessionId, keyBytes: session.bytesReceived };
          opened.push(s);
          return s;
        } catch (err) {
          keys?.delete();
          runtime.delete();
          sessions.delete(variant);
          throw err;
        }
      })();
      sessions.set(variant, pending);
    }
    return pending;
  };

  const primaryVariant: FheVariant = mode === 'auto' ? (specs[DEFAULT_FHE_VARIANT] ? DEFAULT_FHE_VARIANT : wanted[0]!) : mode;
  // A fixed variant is opened now so key problems surface at connect; `auto` uploads keys only for variants it uses.
  if (mode !== 'auto') await open(primaryVariant);
  const groupsPerRequest = params.groupsPerRequest ?? 64;
  const concurrency = params.concurrency ?? 2;

  return {
    modelId,
    variants: offered,
    spec: specs[primaryVariant]!.spec,
    session: async (variant = primaryVariant) => {
      if (!specs[variant]) throw new VeilClientError('invalid_argument', `variant "${variant}" is not available on this connection`);
      return (await open(variant)).sessionId;
    },
    get keyBytes() {
      return opened.reduce((a, s) => a + s.keyBytes, 0);
    },
    get reestablished() {
      return reestablished;
    },
    async predict(samples, options = {}) {
      const inputSize = specs[primaryVariant]!.spec.inputSize;
      samples.forEach((s, i) => {
        if (s.length !== inputSize) throw new VeilClientError('invalid_argument', `sample ${i} has ${s.length} features; model "${modelId}" takes ${inputSize}`);
        for (let j = 0; j < s.length; j++) {
          if (!Number.isFinite(s[j]!)) throw new VeilClientError('invalid_argument', `sample ${i} feature ${j} is not a finite number`);
        }
      });
      const variant = options.variant ?? (mode === 'auto'
        ? chooseFheVariant(Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, v.spec])), samples.length)
        : mode);
      if (!specs[variant]) throw new VeilClientError('invalid_argument', `variant "${variant}" is not available on this connection`);
      const session = await open(variant);
      const { spec, keys } = session;
      const idempotencyKey = options.idempotencyKey ?? randomUUID();

      const encrypted = packInputs(spec, samples).map((group) => group.map((slots) => keys.encrypt(slots)));
      let bytesUploaded = 0;
      for (const group of encrypted) for (const c of group) bytesUploaded += c.byteLength;

      const decryptedGroups: Float64Array[][] = new Array(encrypted.length);
      let bytesDownloaded = 0;
      let evalMicros = 0;
      const starts: number[] = [];
      for (let i = 0; i < encrypted.length; i += groupsPerRequest) starts.push(i);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < starts.length) {
          const start = starts[next++]!;
          const slice = encrypted.slice(start, start + groupsPerRequest);
          const send = (sessionId: string) => client.predict(sessionId, slice.map((ciphertexts) => ({ ciphertexts })), {
            deadlineMs: params.deadlineMs,
            signal: options.signal,
            // One key per slice, the same on the retry below: a paid slice is charged once whichever replica answers it.
            idempotencyKey: starts.length > 1 ? `${idempotencyKey}/${start}` : idempotencyKey,
          });
          const used = session.sessionId;
          let response;
          try {
            response = await send(used);
          } catch (err) {
            // Moved by a balancer or left behind by a replica that went away: the same keys, a new session, one retry.
            if (!isSessionLost(err) || options.signal?.aborted) throw err;
            response = await send(await reestablish(session, used));
          }
          if (response.groups.length !== slice.length) {
            throw new VeilClientError('internal', `gateway returned ${response.groups.length} groups for ${slice.length}`);
          }
          evalMicros += response.evalMicros;
          response.groups.forEach((g, k) => {
            for (const c of g.ciphertexts) bytesDownloaded += c.byteLength;
            decryptedGroups[start + k] = g.ciphertexts.map((c) => keys.decrypt(c));
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, starts.length) }, worker));

      const logits: Float64Array[] = [];
      decryptedGroups.forEach((slots, g) => {
        const count = Math.min(spec.batchCapacity, samples.length - g * spec.batchCapacity);
        for (const l of unpackOutputs(spec, slots, count)) logits.push(protectDecryptedOutputs(l, params.outputPrecision));
      });
      return { logits, outputs: logits.map((l) => applyPostprocess(spec, l)), variant, bytesUploaded, bytesDownloaded, evalMicros };
    },
    async close() {
      // Every session is closed and every SEAL object freed even when one close fails; the first failure is reported.
      const all = await Promise.allSettled([...sessions.values()]);
      let first: { err: unknown } | undefined;
      for (const result of all) {
        if (result.status !== 'fulfilled') continue;
        const s = result.value;
        try {
          await client.closeSession(s.sessionId);
        } catch (err) {
          // An already-expired session is closed as far as the caller is concerned.
          if ((err as VeilClientError).code !== 'session_not_found') first ??= { err };
        } finally {
          s.keys.delete();
          s.runtime.delete();
        }
      }
      sessions.clear();
      if (first) throw first.err;
    },
  };
}
