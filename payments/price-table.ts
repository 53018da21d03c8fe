/**
 * What calls cost, per model and unit, in the payment token's atomic units (vUSD and USDC: 6 decimals, so 1 = 10⁻⁶ $).
 * A unit absent from a model's entry costs nothing. The ceiling a call reserves is what it can cost at most, from what
 * the gateway knows before it runs (the sealed size bounds the prompt's tokens, the client's declared max_tokens bounds
 * the completion's); the charge is what it actually used, never more than the ceiling.
 */
export type ModelPrice = {
  /** Each call, whatever it does. */
  perCall?: bigint;
  /** Each prompt / input token (chat and embeddings). */
  perInputToken?: bigint;
  /** Each completion token (chat). */
  perOutputToken?: bigint;
  /** Each FHE ciphertext group evaluated (up to the variant's batch capacity of samples). */
  perCiphertextGroup?: bigint;
};

export type PriceUnit = keyof ModelPrice;
export const PRICE_UNITS: readonly PriceUnit[] = ['perCall', 'perInputToken', 'perOutputToken', 'perCiphertextGroup'];

/** How much of each unit a call used (or may use at most, for its ceiling). */
export type Usage = { calls?: number; inputTokens?: number; outputTokens?: number; ciphertextGroups?: number };

export type PriceTable = {
  asset: { symbol: string; decimals: number };
  /** Models without an entry of their own. */
  default: ModelPrice;
  models: Readonly<Record<string, ModelPrice>>;
};

const MAX_UINT128 = (1n << 128n) - 1n;

/**
 * The development price table: cheap enough that the funded dev account never runs dry, dear enough that the
 * charges are visible (a 64-token chat is 0.000434 vUSD; an FHE prediction 0.001).
 */
export const DEFAULT_PRICE_TABLE: PriceTable = Object.freeze({
  asset: Object.freeze({ symbol: 'vUSD', decimals: 6 }),
  default: Object.freeze({ perCall: 100n }),
  models: Object.freeze({
    'toy-chat-kjv': Object.freeze({ perCall: 50n, perInputToken: 1n, perOutputToken: 5n }),
    'toy-chat-mqa-kjv': Object.freeze({ perCall: 50n, perInputToken: 1n, perOutputToken: 5n }),
    'toy-embed-kjv': Object.freeze({ perCall: 10n, perInputToken: 1n }),
    'breast-cancer-lr': Object.freeze({ perCall: 100n, perCiphertextGroup: 1_000n }),
  }),
});

export function priceOf(table: PriceTable, modelId: string): ModelPrice {
  return table.models[modelId] ?? table.default;
}

/** The cost of `usage` at `price` (exact bigint arithmetic); refuses a negative or fractional count. */
export function costOf(price: ModelPrice, usage: Usage): bigint {
  const count = (name: keyof Usage) => {
    const n = usage[name] ?? 0;
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`usage.${name} must be a non-negative integer`);
    return BigInt(n);
  };
  const cost = (price.perCall ?? 0n) * count('calls')
    + (price.perInputToken ?? 0n) * count('inputTokens')
    + (price.perOutputToken ?? 0n) * count('outputTokens')
    + (price.perCiphertextGroup ?? 0n) * count('ciphertextGroups');
  if (cost > MAX_UINT128) throw new RangeError('the cost exceeds a uint128');
  return cost;
}

/**
 * Reads a price table from config JSON: amounts as decimal strings of atomic units (JSON numbers lose precision past
 * 2^53), units by the names of ModelPrice. Every problem names its path.
 */
export function parsePriceTable(value: unknown, where = 'payments.prices'): PriceTable {
  const fail = (path: string, what: string): never => {
    throw new RangeError(`${where}${path}: ${what}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('', 'must be an object');
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!['asset', 'default', 'models'].includes(k)) fail(`.${k}`, 'is not a price table field (asset, default, models)');
  const asset = v.asset as Record<string, unknown> | undefined;
  if (!asset || typeof asset.symbol !== 'string' || !/^[A-Za-z0-9.$-]{1,16}$/.test(asset.symbol)) fail('.asset.symbol', 'must be 1..16 letters or digits');
  if (!Number.isInteger(asset!.decimals) || (asset!.decimals as number) < 0 || (asset!.decimals as number) > 36) fail('.asset.decimals', 'must be an integer 0..36');
  const price = (p: unknown, path: string): ModelPrice => {
    if (p === null || typeof p !== 'object' || Array.isArray(p)) fail(path, 'must be an object of unit prices');
    const out: ModelPrice = {};
    for (const [unit, amount] of Object.entries(p as Record<string, unknown>)) {
      if (!(PRICE_UNITS as readonly string[]).includes(unit)) fail(`${path}.${unit}`, `is not a unit (${PRICE_UNITS.join(', ')})`);
      if (typeof amount !== 'string' || !/^(0|[1-9][0-9]{0,38})$/.test(amount) || BigInt(amount) > MAX_UINT128) {
        fail(`${path}.${unit}`, 'must be a decimal string of atomic units (0 ≤ amount < 2^128)');
      }
      out[unit as PriceUnit] = BigInt(amount as string);
    }
    return Object.freeze(out);
  };
  const models: Record<string, ModelPrice> = {};
  const m = v.models ?? {};
  if (m === null || typeof m !== 'object' || Array.isArray(m)) fail('.models', 'must be an object keyed by model id');
  for (const [id, p] of Object.entries(m as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9_.:/-]{1,128}$/.test(id)) fail(`.models`, `${JSON.stringify(id.slice(0, 64))} is not a model id`);
    models[id] = price(p, `.models.${id}`);
  }
  return Object.freeze({
    asset: Object.freeze({ symbol: asset!.symbol as string, decimals: asset!.decimals as number }),
    default: price(v.default ?? {}, '.default'),
    models: Object.freeze(models),
  });
}

/** The table as JSON (amounts as decimal strings), the shape `GET /v1/pricing` serves and parsePriceTable reads. */
export function priceTableJson(table: PriceTable): object {
  const json = (p: ModelPrice) => Object.fromEntries(Object.entries(p).map(([k, a]) => [k, (a as bigint).toString()]));
  return { asset: table.asset, default: json(table.default), models: Object.fromEntries(Object.entries(table.models).map(([id, p]) => [id, json(p)])) };
}
