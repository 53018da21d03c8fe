/**
 * The gRPC load arms: what one request of each mode is, through the SDK as an app would call it. Each arm holds one
 * client per gateway and spreads arrivals over them in turn (client-side round robin).
 */
import { connectFheModel, createVeilClient, type FheModelClient, type VeilClient } from '../../client';
import { connectTeeModel, type TeeModelClient } from '../../client/tee';
import { BUNDLED_MODELS, loadDataset } from '../../models';

/** One request of a mode, against any of its gateways. */
export type RequestArm = {
  /** Issues one request with `deadlineMs` left; resolves when it succeeded (its output checked), rejects otherwise. */
  fire(deadlineMs: number): Promise<void>;
  close(): Promise<void>;
};

export type GrpcGateway = { address: string; simulatedKeys: readonly string[] };

const MODEL = 'breast-cancer-lr';
const { name: INPUT, features: FEATURES } = BUNDLED_MODELS[MODEL].input;

// The client's own policy: SIMULATED evidence is accepted only against the keys the gateways printed.
const POLICY = { measurements: 'any', debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 } as const;

function rows(): number[][] {
  return loadDataset('breast-cancer').test.features.map((r) => [...r]);
}

function roundRobin<T>(items: readonly T[]): () => T {
  let next = 0;
  return () => items[next++ % items.length]!;
}

/**
 * FHE: one encrypted single-sample prediction of breast-cancer-lr (`blocks` variant): encrypt in this process →
 * Fhe.Predict → decrypt. One session per gateway, its keys uploaded before the first step.
 */
export async function openFheArm(gateways: readonly GrpcGateway[]): Promise<RequestArm> {
  const clients: VeilClient[] = [];
  const models: FheModelClient[] = [];
  try {
    for (const g of gateways) {
      const client = createVeilClient({ target: g.address });
      clients.push(client);
      models.push(await connectFheModel({ client, modelId: MODEL, variant: 'blocks' }));
    }
  } catch (err) {
    for (const c of clients) c.close();
    throw err;
  }
  const data = rows();
  const pick = roundRobin(models);
  let i = 0;
  return {
    async fire(deadlineMs) {
      const { outputs } = await pick().predict([data[i++ % data.length]!], { signal: AbortSignal.timeout(Math.ceil(deadlineMs)) });
      if (outputs.length !== 1) throw Object.assign(new Error('the prediction has no output'), { code: 'bad_output' });
    },
    async close() {
      for (const m of models) await m.close();
      for (const c of clients) c.close();
    },
  };
}

/**
 * TEE: one sealed single-row inference of breast-cancer-lr on the gateway's in-process SIMULATED node: seal →
 * Tee.Infer → verify the signed receipt → open, the HPKE session reused (tee/PROTOCOL.md). The node's evidence is
 * verified once per gateway, against the key that gateway printed.
 */
export async function openTeeArm(gateways: readonly GrpcGateway[]): Promise<RequestArm> {
  const models: TeeModelClient[] = [];
  try {
    for (const g of gateways) {
      models.push(await connectTeeModel({
        gateway: g.address, modelId: MODEL, allowSimulated: true, policy: POLICY,
        roots: { simulated: g.simulatedKeys.map((k) => Uint8Array.from(Buffer.from(k, 'hex'))) },
      }));
    }
  } catch (err) {
    for (const m of models) m.close();
    throw err;
  }
  const data = rows().map((r) => Float32Array.from(r));
  const pick = roundRobin(models);
  let i = 0;
  return {
    async fire(deadlineMs) {
      const row = data[i++ % data.length]!;
      const { outputs } = await pick().infer({ [INPUT]: { dims: [1, FEATURES], data: row } }, { deadlineMs });
      if (Object.keys(outputs).length === 0) throw Object.assign(new Error('the inference has no output'), { code: 'bad_output' });
    },
    async close() {
      for (const m of models) m.close();
    },
  };
}
