import { Encoder } from 'cbor-x';
import { createVeilClient } from '../../client';
import {
  createCkksRuntime, createFheClientKeys, loadSeal, packInputs,
  type CkksParameters, type CkksRuntime, type FheModelSpec,
} from '../../fhe';
import { loadDataset } from '../../models';
import type { GetTeeEvidenceResponse } from '../../proto';
import { createHpkeSuite, createTeeChannel, encodeTeeRequestBody, newRequestId, type TeeChannel } from '../../tee';
import { createVeilCodec, type VeilCodec } from './veil-codec';
import { createWireClient } from './wire-client';

export const FUZZ_MODEL = 'breast-cancer-lr';
const OTHER_TEE_MODEL = 'digits-mlp';
const FEATURES = 30;

/** Parameter sets the gateway does not serve for this model: ciphertexts and keys made under them must be refused. */
const FOREIGN_PARAMS: readonly CkksParameters[] = [
  { polyModulusDegree: 8192, coeffModulusBits: [50, 40, 50], scaleBits: 40 },
  { polyModulusDegree: 4096, coeffModulusBits: [40, 20, 40], scaleBits: 20 },
];

export type FheVariantMaterial = { spec: FheModelSpec; specSha256: string };

/**
 * Real protocol material, made once per run (node-seal keygen and HPKE setup are the slow part): the served specs,
 * real evaluation keys and ciphertexts, the same under foreign parameters, a lower-level ciphertext, and the TEE
 * node's attested HPKE key to seal real frames to.
 */
export type FuzzMaterial = {
  codec: VeilCodec;
  fhe: {
    blocks: FheVariantMaterial;
    featureMajor: FheVariantMaterial;
    /** Seeded Galois keys for the blocks spec (the only key the model needs). */
    galoisKeys: Uint8Array;
    /** Galois keys for the same steps under another parameter set. */
    foreignGaloisKeys: Uint8Array;
    ciphertexts: {
      /** Fresh seeded ciphertexts of real samples (blocks layout, one per group). */
      valid: Uint8Array[];
      /** One of `valid` re-serialised in full (unseeded) form: also a valid input. */
      fullForm: Uint8Array;
      /** A valid ciphertext mod-switched one level down (not a fresh input). */
      wrongLevel: Uint8Array;
      /** Fresh ciphertexts under foreign parameters. */
      foreign: Uint8Array[];
      /** One feature-major group (spec.inputCiphertexts ciphertexts). */
      featureMajorGroup: Uint8Array[];
    };
    /** Decrypts a blocks-layout result with the live session's secret key. */
    decrypt(bytes: Uint8Array): Float64Array;
  };
  tee: {
    hpkePublicKey: Uint8Array;
    /** The gateway's id for the worker node. */
    nodeId: string;
    modelId: string;
    otherModelId: string;
    /** A valid request body for `rows` real samples, stamped `now + tsOffsetMs`. */
    body(options: { rows: number; tsOffsetMs: number; modelId?: string; values?: 'data' | 'zeros' | 'extreme' }): Uint8Array;
    /** CBOR bytes of any value, with the body codec's options (plain CBOR). */
    cbor(value: unknown): Uint8Array;
    /** Seals `body` as a one-shot handshake frame for `modelId`. */
    sealHandshake(body: Uint8Array, modelId?: string): Promise<Uint8Array>;
    /** The reusable session channel (established by the harness with a real exchange). */
    channel: TeeChannel;
    resetChannel(): void;
    /** Fetches the node's HPKE key again (after the worker restarted with a new identity). */
    rekey(): Promise<void>;
  };
  close(): void;
};

export async function createFuzzMaterial(targets: { gateway: string; worker: string }, maxMessageBytes: number): Promise<FuzzMaterial> {
  const codec = createVeilCodec();
  const client = createVeilClient({ target: targets.gateway, maxMessageBytes });
  const seal = await loadSeal();
  const owned: { delete(): void }[] = [];
  try {
    const specOf = async (variant: string): Promise<FheVariantMaterial> => {
      const response = await client.getFheSpec(FUZZ_MODEL, { deadlineMs: 30_000 }, variant);
      return { spec: JSON.parse(response.specJson) as FheModelSpec, specSha256: response.specSha256 };
    };
    const blocks = await specOf('blocks');
    const featureMajor = await specOf('feature-major');

    const runtime = track(owned, createCkksRuntime(seal, blocks.spec.params));
    const keys = track(owned, createFheClientKeys(runtime, blocks.spec));
    const galoisKeys = keys.evaluationKeys().galoisKeys!;
    const { test } = loadDataset('breast-cancer');
    const valid = test.features.slice(0, 4).map((row) => keys.encrypt(packInputs(blocks.spec, [row])[0]![0]!));
    const fullForm = reserialize(runtime, valid[0]!, false);
    const wrongLevel = reserialize(runtime, valid[0]!, true);

    const foreign: Uint8Array[] = [];
    let foreignGaloisKeys: Uint8Array | undefined;
    for (const params of FOREIGN_PARAMS) {
      const other = { ...blocks.spec, params } as FheModelSpec;
      const otherRuntime = createCkksRuntime(seal, params);
      const otherKeys = createFheClientKeys(otherRuntime, other);
      try {
        foreign.push(otherKeys.encrypt(packInputs(blocks.spec, [test.features[0]!])[0]![0]!));
        foreignGaloisKeys ??= otherKeys.evaluationKeys().galoisKeys!;
      } finally {
        otherKeys.delete();
        otherRuntime.delete();
      }
    }

    const fmRuntime = createCkksRuntime(seal, featureMajor.spec.params);
    const fmKeys = createFheClientKeys(fmRuntime, featureMajor.spec);
    const featureMajorGroup = packInputs(featureMajor.spec, test.features.slice(0, 2))[0]!.map((slots) => fmKeys.encrypt(slots));
    fmKeys.delete();
    fmRuntime.delete();

    const tee = await teeMaterial(codec, targets.worker, maxMessageBytes);
    client.close();
    return {
      codec,
      fhe: {
        blocks, featureMajor, galoisKeys, foreignGaloisKeys: foreignGaloisKeys!,
        ciphertexts: { valid, fullForm, wrongLevel, foreign, featureMajorGroup },
        decrypt: (bytes) => keys.decrypt(bytes),
      },
      tee,
      close: () => {
        for (const o of owned.splice(0).reverse()) o.delete();
      },
    };
  } catch (err) {
    client.close();
    for (const o of owned.splice(0).reverse()) o.delete();
    throw err;
  }
}

function track<T extends { delete(): void }>(owned: { delete(): void }[], value: T): T {
  owned.push(value);
  return value;
}

/** Loads a seeded ciphertext and saves it again in full form, optionally one level down (mod-switched). */
function reserialize(runtime: CkksRuntime, bytes: Uint8Array, modSwitch: boolean): Uint8Array {
  const { seal, context, evaluator } = runtime;
  const ct = seal.CipherText();
  try {
    ct.loadArray(context, bytes);
    if (modSwitch) evaluator.cipherModSwitchToNext(ct, ct);
    return ct.saveArray(seal.ComprModeType.none);
  } finally {
    ct.delete();
  }
}

async function nodeKey(codec: VeilCodec, worker: string, maxMessageBytes: number): Promise<Uint8Array> {
  const wire = createWireClient(worker, { maxMessageBytes });
  try {
    const answer = await wire.unary(codec.path('TeeNode.GetEvidence'), codec.encode('TeeNode.GetEvidence', { nonce: Buffer.alloc(32, 7) }), { deadlineMs: 30_000 });
    if (!answer.response) throw new Error(`fuzz material: the worker refused GetEvidence (${answer.status} ${answer.details})`);
    return new Uint8Array(codec.decode<GetTeeEvidenceResponse>('TeeNode.GetEvidence', answer.response).identity!.hpkePublicKey);
  } finally {
    wire.close();
  }
}

async function teeMaterial(codec: VeilCodec, worker: string, maxMessageBytes: number): Promise<FuzzMaterial['tee']> {
  let hpkePublicKey = await nodeKey(codec, worker, maxMessageBytes);
  const suite = createHpkeSuite();
  const { test } = loadDataset('breast-cancer');
  const encoder = new Encoder({ useRecords: false, tagUint8Array: false, structuredClone: false, pack: false, mapsAsObjects: false });
  const newChannel = () => createTeeChannel({ suite, hpkePublicKey, modelId: FUZZ_MODEL, reuseSession: true });
  const material: FuzzMaterial['tee'] = {
    get hpkePublicKey() {
      return hpkePublicKey;
    },
    nodeId: 'remote-1',
    modelId: FUZZ_MODEL,
    otherModelId: OTHER_TEE_MODEL,
    body({ rows, tsOffsetMs, modelId = FUZZ_MODEL, values = 'data' }) {
      const data = new Float32Array(rows * FEATURES);
      for (let r = 0; r < rows; r++) {
        const row = test.features[r % test.features.length]!;
        for (let j = 0; j < FEATURES; j++) data[r * FEATURES + j] = values === 'zeros' ? 0 : values === 'extreme' ? (j % 2 ? 3.4e38 : -3.4e38) : row[j]!;
      }
      return encodeTeeRequestBody({ requestId: newRequestId(), timestampMs: Date.now() + tsOffsetMs, modelId, inputs: { x: { dims: [rows, FEATURES], data } } });
    },
    cbor: (value) => encoder.encode(value),
    async sealHandshake(body, modelId = FUZZ_MODEL) {
      const channel = createTeeChannel({ suite, hpkePublicKey, modelId, reuseSession: false });
      return (await channel.seal(body)).sealed;
    },
    channel: newChannel(),
    resetChannel() {
      material.channel = newChannel();
    },
    async rekey() {
      hpkePublicKey = await nodeKey(codec, worker, maxMessageBytes);
      material.resetChannel();
    },
  };
  return material;
}

