import {
  applyPostprocess, createCkksRuntime, createFheClientKeys, loadSeal, packInputs, unpackOutputs,
  type CkksRuntime, type FheClientKeys, type FheModelSpec,
} from '../fhe';
import type { VeilClient } from './create-veil-client';
import { VeilClientError } from './veil-client-error';

export type ConnectFheModelParameters = {
  client: VeilClient;
  modelId: string;
  /** Ciphertext groups per Predict call (the gateway spreads one call's groups over its workers). */
  groupsPerRequest?: number;
  /** Predict calls in flight at once for large batches. */
  concurrency?: number;
  deadlineMs?: number;
};

export type FhePrediction = {
  /** Decrypted model outputs before the final activation, one Float64Array per sample. */
  logits: Float64Array[];
  /** After the spec's postprocess (sigmoid / softmax / argmax / none), applied locally. */
  outputs: (Float64Array | number)[];
  bytesUploaded: number;
  bytesDownloaded: number;
  /** Worker evaluation time reported by the gateway, summed over calls. */
  evalMicros: number;
};

export type FheModelClient = {
  modelId: string;
  spec: FheModelSpec;
  sessionId: string;
  /** Bytes of evaluation keys uploaded when the session was created. */
  keyBytes: number;
  predict(samples: ArrayLike<number>[], options?: { signal?: AbortSignal }): Promise<FhePrediction>;
  close(): Promise<void>;
};

/**
 * Connects to one model for encrypted inference: fetches its public spec, generates a CKKS key pair locally
 * (the secret key never leaves this object), uploads only the evaluation keys the model's plan needs, and
 * then encrypts, predicts and decrypts — batching samples into ciphertext groups transparently.
 *
 * @example
 * const client = createVeilClient({ target: '127.0.0.1:50051' });
 * const model = await connectFheModel({ client, modelId: 'breast-cancer-lr' });
 * const { outputs } = await model.predict([features]); // outputs[0] = probability of class 1
 * await model.close();
 */
export async function connectFheModel(params: ConnectFheModelParameters): Promise<FheModelClient> {
  const { client, modelId } = params;
  const specResponse = await client.getFheSpec(modelId, { deadlineMs: params.deadlineMs });
  const spec = JSON.parse(specResponse.specJson) as FheModelSpec;
  const seal = await loadSeal();
  const runtime: CkksRuntime = createCkksRuntime(seal, spec.params);
  let keys: FheClientKeys | undefined;
  try {
    keys = createFheClientKeys(runtime, spec);
    const evaluation = keys.evaluationKeys();
    const session = await client.createFheSession(
      { modelId, specSha256: specResponse.specSha256, galoisKeys: evaluation.galoisKeys, relinKeys: evaluation.relinKeys },
      { deadlineMs: params.deadlineMs },
    );
    const groupsPerRequest = params.groupsPerRequest ?? 64;
    const concurrency = params.concurrency ?? 2;
    const clientKeys = keys;
    return {
      modelId,
      spec,
      sessionId: session.sessionId,
      keyBytes: session.bytesReceived,
      async predict(samples, options = {}) {
        samples.forEach((s, i) => {
          if (s.length !== spec.inputSize) throw new VeilClientError('invalid_argument', `sample ${i} has ${s.length} features; model "${modelId}" takes ${spec.inputSize}`);
          for (let j = 0; j < s.length; j++) {
            if (!Number.isFinite(s[j]!)) throw new VeilClientError('invalid_argument', `sample ${i} feature ${j} is not a finite number`);
          }
        });
        const slotGroups = packInputs(spec, samples);
        const encrypted = slotGroups.map((group) => group.map((slots) => clientKeys.encrypt(slots)));
        let bytesUploaded = 0;
        for (const group of encrypted) for (const c of group) bytesUploaded += c.byteLength;

        const decryptedGroups: Float64Array[][] = new Array(encrypted.length);
        let bytesDownloaded = 0;
        let evalMicros = 0;
        const batches: number[] = [];
        for (let i = 0; i < encrypted.length; i += groupsPerRequest) batches.push(i);
        let next = 0;
        const runNext = async (): Promise<void> => {
          while (next < batches.length) {
            const start = batches[next++]!;
            const slice = encrypted.slice(start, start + groupsPerRequest);
            const response = await client.predict(session.sessionId, slice.map((ciphertexts) => ({ ciphertexts })), {
              deadlineMs: params.deadlineMs,
              signal: options.signal,
            });
            if (response.groups.length !== slice.length) {
              throw new VeilClientError('internal', `gateway returned ${response.groups.length} groups for ${slice.length}`);
            }
            evalMicros += response.evalMicros;
            response.groups.forEach((g, k) => {
              for (const c of g.ciphertexts) bytesDownloaded += c.byteLength;
              decryptedGroups[start + k] = g.ciphertexts.map((c) => clientKeys.decrypt(c));
            });
          }
        };
        await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, runNext));

        const logits: Float64Array[] = [];
        decryptedGroups.forEach((slots, g) => {
          const count = Math.min(spec.batchCapacity, samples.length - g * spec.batchCapacity);
          logits.push(...unpackOutputs(spec, slots, count));
        });
        return { logits, outputs: logits.map((l) => applyPostprocess(spec, l)), bytesUploaded, bytesDownloaded, evalMicros };
      },
      async close() {
        try {
          await client.closeSession(session.sessionId);
        } catch (err) {
          // An already-expired session is closed as far as the caller is concerned.
          if ((err as VeilClientError).code !== 'session_not_found') throw err;
        } finally {
          clientKeys.delete();
          runtime.delete();
        }
      },
    };
  } catch (err) {
    keys?.delete();
    runtime.delete();
    throw err;
  }
}
