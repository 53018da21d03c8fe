import { parseArgs } from 'node:util';
import {
  API_KEY_MODES, apiKeyId, generateApiKey, KeysFileError, MODEL_ID_PATTERN, readKeysFile, resolveKeysFile, updateKeysFile,
  type ApiKeyMode, type ApiKeyRecord,
} from '../gateway/auth';
import { ConfigError, loadConfig } from '../gateway/config';

export const summary = 'create, list and revoke API keys (auth.mode = api-keys)';

const HELP = `usage: veil keys create [--name NAME] [--models ID,...] [--modes fhe,tee] [--rate N [--burst N]] [--budget N] [--json]
       veil keys list [--json]
       veil keys revoke KEY_ID [--json]
       (each also takes --keys-file FILE)

API keys for clients of a gateway running with auth.mode=api-keys (VEIL_AUTH_MODE=api-keys). The keys file
(auth.keysFile; "default" = <dataDir>/api-keys.json, mode 0600) holds only each key's SHA-256, never a key;
the gateway re-reads it when it changes, so new and revoked keys take effect without a restart.
Clients send the key as gRPC metadata "authorization: Bearer <key>" (SDK: apiKey; veil demo: --api-key).
  create        make a key and print it ONCE (store it then: it cannot be shown again)
    --name      a label for humans (default: empty)
    --models    model ids the key may use (default: all served models)
    --modes     fhe, tee or both (default: fhe,tee)
    --rate      calls per second allowed on average (default: unlimited)
    --burst     calls allowed at once (default: the rate rounded up, at least 1)
    --budget    with payments on: the most this key's calls may be charged in total, in token atomic units
                (vUSD: 1000000 = 1 vUSD); its calls then need no vouchers (default: none, calls pay with vouchers)
  list          every key: id, name, scopes, rate, created, revoked
  revoke        revoke a key by its id (the part after "veil_"; a whole key is accepted too)
  --keys-file   the keys file (default: auth.keysFile from VEIL_CONFIG / VEIL_AUTH_KEYS_FILE)
  --json        machine-readable output`;

type Values = { name?: string; models?: string; modes?: string; rate?: string; burst?: string; budget?: string; json?: boolean; 'keys-file'?: string; help?: boolean };

export async function run(args: string[]): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        name: { type: 'string' }, models: { type: 'string' }, modes: { type: 'string' }, rate: { type: 'string' }, burst: { type: 'string' }, budget: { type: 'string' },
        json: { type: 'boolean' }, 'keys-file': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return usage((err as Error).message);
  }
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  let file: string;
  try {
    const config = loadConfig(values['keys-file'] === undefined ? {} : { overrides: { auth: { keysFile: values['keys-file'] } } });
    file = resolveKeysFile(config.auth.keysFile, config.dataDir);
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message, 2);
    throw err;
  }
  try {
    if (command === 'create' && rest.length === 0) return create(file, values);
    if (command === 'list' && rest.length === 0) return list(file, values.json ?? false);
    if (command === 'revoke' && rest.length === 1) return revoke(file, rest[0]!, values.json ?? false);
  } catch (err) {
    if (err instanceof KeysFileError) return fail(err.message, 1);
    throw err;
  }
  return usage(`unknown or incomplete command "${positionals.join(' ')}"`);
}

function create(file: string, values: Values): number {
  const problems: string[] = [];
  const models = values.models === undefined || values.models.trim() === '*' ? '*' as const : splitList(values.models);
  if (models !== '*') {
    if (models.length === 0) problems.push('--models: list at least one model id (or omit it for all models)');
    for (const m of models) if (!MODEL_ID_PATTERN.test(m)) problems.push(`--models: "${m}" is not a model id`);
  }
  const modes = values.modes === undefined ? [...API_KEY_MODES] : splitList(values.modes);
  if (modes.length === 0) problems.push('--modes: list fhe, tee or both');
  for (const m of modes) if (!(API_KEY_MODES as readonly string[]).includes(m)) problems.push(`--modes: "${m}" is not fhe or tee`);
  const perSecond = values.rate === undefined ? undefined : Number(values.rate);
  if (perSecond !== undefined && !(Number.isFinite(perSecond) && perSecond > 0 && perSecond <= 1e6)) problems.push('--rate must be a number of calls per second, > 0 and <= 1000000');
  const burst = values.burst === undefined ? undefined : Number(values.burst);
  if (burst !== undefined && perSecond === undefined) problems.push('--burst needs --rate');
  if (burst !== undefined && !(Number.isInteger(burst) && burst >= 1 && burst <= 1e6)) problems.push('--burst must be an integer from 1 to 1000000');
  if (values.budget !== undefined && !/^[1-9][0-9]{0,37}$/.test(values.budget)) problems.push('--budget must be a positive whole number of token atomic units');
  if (problems.length > 0) return fail(problems.join('\nveil keys: '), 2);

  const generated = generateApiKey();
  const record: ApiKeyRecord = {
    id: generated.id,
    sha256: generated.sha256,
    name: values.name ?? '',
    createdAt: new Date().toISOString(),
    models,
    modes: [...new Set(modes)] as ApiKeyMode[],
    rate: perSecond === undefined ? null : { perSecond, burst: burst ?? Math.max(1, Math.ceil(perSecond)) },
    revokedAt: null,
    ...(values.budget !== undefined ? { budget: values.budget } : {}),
  };
  updateKeysFile(file, (contents) => contents.keys.push(record));
  const { sha256: _hash, ...shown } = record;
  if (values.json) {
    console.log(JSON.stringify({ ...shown, key: generated.key, keysFile: file }));
  } else {
    console.log(`created API key ${record.id}${record.name ? ` (${record.name})` : ''} in ${file}`);
    console.log(`  scope  models ${describeModels(record)}; modes ${record.modes.join(', ')}; ${describeRate(record)}${describeBudget(record)}`);
    console.log(`  key    ${generated.key}`);
    console.log('This is the only time the key is shown: store it now. The gateway keeps only its SHA-256.');
  }
  return 0;
}

function list(file: string, json: boolean): number {
  const keys = readKeysFile(file).keys.map(({ sha256: _hash, ...shown }) => shown);
  if (json) {
    console.log(JSON.stringify({ keysFile: file, keys }));
    return 0;
  }
  if (keys.length === 0) {
    console.log(`no API keys in ${file} (create one with \`veil keys create\`)`);
    return 0;
  }
  for (const k of keys) {
    const state = k.revokedAt ? `REVOKED ${k.revokedAt}` : 'active';
    console.log(`${k.id}  ${state.padEnd(8)}  models ${describeModels(k)}; modes ${k.modes.join(',')}; ${describeRate(k)}${describeBudget(k)}; created ${k.createdAt}${k.name ? `  ${k.name}` : ''}`);
  }
  return 0;
}

function revoke(file: string, idOrKey: string, json: boolean): number {
  const id = apiKeyId(idOrKey) ?? idOrKey;
  if (!/^[0-9a-f]{16}$/.test(id)) return fail(`"${idOrKey.slice(0, 24)}" is not a key id (16 hex digits, as \`veil keys list\` shows)`, 2);
  const outcome = updateKeysFile(file, (contents) => {
    const record = contents.keys.find((k) => k.id === id);
    if (!record) return 'unknown' as const;
    if (record.revokedAt) return 'already' as const;
    record.revokedAt = new Date().toISOString();
    return 'revoked' as const;
  });
  if (outcome === 'unknown') return fail(`no key with id ${id} in ${file}`, 1);
  if (json) console.log(JSON.stringify({ id, revoked: true, alreadyRevoked: outcome === 'already', keysFile: file }));
  else console.log(outcome === 'already' ? `API key ${id} was already revoked` : `revoked API key ${id}; running gateways refuse it once they re-read ${file} (within a second)`);
  return 0;
}

function describeModels(k: Pick<ApiKeyRecord, 'models'>): string {
  return k.models === '*' ? 'all' : k.models.join(',');
}

function describeBudget(k: { budget?: string | null }): string {
  return typeof k.budget === 'string' ? `; budget ${k.budget}` : '';
}

function describeRate(k: Pick<ApiKeyRecord, 'rate'>): string {
  return k.rate ? `rate ${k.rate.perSecond}/s burst ${k.rate.burst}` : 'no rate limit';
}

function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function usage(message: string): number {
  console.error(`veil keys: ${message}\n\n${HELP}`);
  return 2;
}

function fail(message: string, code: number): number {
  console.error(`veil keys: ${message}`);
  return code;
}
