import fs from 'node:fs';
import { CONFIG_SCHEMA, isConfigField, type ConfigField, type ConfigTree, type VeilConfig } from './config-schema';
import { ConfigError, type ConfigProblem, type ConfigSources } from './config-error';
import { checkProductionProfile } from './check-production-profile';
import { checkTeeTrust } from './check-tee-trust';
import { checkHttpConfig } from './check-http-config';
import { applyPaymentsDefault } from './apply-payments-default';
import { PROFILE_DEFAULTS, type Profile } from './profile-defaults';


export type LoadConfigParameters = {
  /** Environment to read `VEIL_*` from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Reads the config file named by `VEIL_CONFIG` (injectable for tests). */
  readFile?: (file: string) => string;
  /** Values layered above the file and below env, e.g. CLI flags. */
  overrides?: Record<string, unknown>;
};

/** Which layer a leaf's effective value came from (`veil config` prints it; profile defaults count as defaults). */
export type ConfigSourceKind = 'default' | 'file' | 'flag' | 'env';

/** A leaf's source: its layer and the human label problems already use (`env VEIL_GRPC_PORT`, `file veil.json`). */
export type ConfigValueSource = { kind: ConfigSourceKind; label: string };

/** The loaded configuration plus the source of every leaf, by path (`/grpc/port`). */
export type LoadedConfig = { config: VeilConfig; sources: ReadonlyMap<string, ConfigValueSource> };

/**
 * Builds the one configuration object: schema defaults < profile defaults (`profile`, see profile-defaults.ts) < JSON
 * file (`VEIL_CONFIG`) < overrides < `VEIL_*` env. Then the combined rules run on the result (measurement entries,
 * simulated keys; in the production profile every unsafe combination), each problem naming the setting and where its
 * value came from. Every problem is collected and thrown together as a `ConfigError`; the result is deeply frozen.
 *
 * @example
 * const config = loadConfig({ env: { VEIL_GRPC_PORT: '0' } });
 * config.grpc.port; // 0
 */
export function loadConfig(params: LoadConfigParameters = {}): VeilConfig {
  return loadConfigWithSources(params).config;
}

/**
 * The loader itself (`loadConfig` is this without the sources): the same layering, also returning where each leaf's
 * value came from, so an operator can see what a process actually runs with (`veil config`).
 */
export function loadConfigWithSources(params: LoadConfigParameters = {}): LoadedConfig {
  const env = params.env ?? process.env;
  const readFile = params.readFile ?? ((file: string) => fs.readFileSync(file, 'utf8'));
  const problems: ConfigProblem[] = [];

  let fileValues: Record<string, unknown> = {};
  const configFile = env.VEIL_CONFIG;
  if (configFile) {
    try {
      const parsed: unknown = JSON.parse(readFile(configFile));
      if (!isPlainObject(parsed)) throw new Error('the top level must be a JSON object');
      fileValues = parsed;
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
      problems.push({ path: '/', message: `cannot read config file: ${reason}`, source: `file ${configFile}` });
    }
  }

  const profile = resolveProfile(fileValues, params.overrides, env);
  const sources = new Map<string, ConfigValueSource>();
  const build = (schema: ConfigTree, file: unknown, over: unknown, profileDefaults: unknown, at: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const fileObj = isPlainObject(file) ? file : {};
    const overObj = isPlainObject(over) ? over : {};
    const profileObj = isPlainObject(profileDefaults) ? profileDefaults : {};
    for (const key of Object.keys(fileObj)) {
      if (!Object.hasOwn(schema, key)) problems.push({ path: `${at}/${key}`, message: 'unknown setting', source: `file ${configFile}` });
    }
    for (const [key, node] of Object.entries(schema)) {
      const path = `${at}/${key}`;
      if (!isConfigField(node)) {
        if (fileObj[key] !== undefined && !isPlainObject(fileObj[key])) {
          problems.push({ path, message: 'must be an object', source: `file ${configFile}` });
        }
        out[key] = build(node, fileObj[key], overObj[key], profileObj[key], path);
        continue;
      }
      let value: unknown = node.default;
      let source: ConfigValueSource = { kind: 'default', label: 'default' };
      const layers: [unknown, ConfigValueSource][] = [
        [profileObj[key], { kind: 'default', label: `${profile} profile default` }],
        [fileObj[key], { kind: 'file', label: `file ${configFile}` }],
        [overObj[key], { kind: 'flag', label: 'command line' }],
        [env[node.env], { kind: 'env', label: `env ${node.env}` }],
      ];
      for (const [raw, layer] of layers) {
        const fromEnv = layer.kind === 'env';
        if (raw === undefined || (fromEnv && raw === '')) continue;
        const parsed = parseField(node, raw, fromEnv);
        if ('error' in parsed) {
          problems.push({ path, message: parsed.error, source: layer.label });
        } else {
          value = parsed.value;
          source = layer;
        }
      }
      sources.set(path, source);
      out[key] = value;
    }
    return out;
  };

  const config = build(CONFIG_SCHEMA, fileValues, params.overrides, PROFILE_DEFAULTS[profile], '') as VeilConfig;
  // Combined rules judge values that parsed; a leaf that failed to parse is already reported.
  if (problems.length === 0) {
    const sourceOf: ConfigSources = (path) => sources.get(path)?.label ?? 'default';
    problems.push(...checkTeeTrust(config, sourceOf));
    problems.push(...checkHttpConfig(config, sourceOf));
    problems.push(...applyPaymentsDefault(config, sources));
    if (config.profile === 'production') problems.push(...checkProductionProfile(config, sourceOf));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { config: deepFreeze(config), sources };
}

/**
 * The profile decides the defaults of other leaves, so it is read first, with the same precedence (env > overrides >
 * file). An invalid value falls back to the schema default here; the main pass reports it.
 */
function resolveProfile(file: Record<string, unknown>, overrides: Record<string, unknown> | undefined, env: Record<string, string | undefined>): Profile {
  const field = CONFIG_SCHEMA.profile;
  let profile: string = field.default;
  for (const [raw, fromEnv] of [[file.profile, false], [overrides?.profile, false], [env[field.env], true]] as const) {
    if (raw === undefined || (fromEnv && raw === '')) continue;
    const parsed = parseField(field, raw, fromEnv);
    if (!('error' in parsed)) profile = parsed.value as string;
  }
  return profile as Profile;
}

function parseField(field: ConfigField, raw: unknown, fromEnv: boolean): { value: unknown } | { error: string } {
  switch (field.kind) {
    case 'int': {
      const n = fromEnv && typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isInteger(n)) return { error: `must be an integer, got ${describe(raw)}` };
      if (n < field.min || n > field.max) return { error: `must be between ${field.min} and ${field.max}, got ${n}` };
      return { value: n };
    }
    case 'bool': {
      const b = fromEnv && typeof raw === 'string' ? ({ true: true, false: false, '1': true, '0': false } as Record<string, boolean>)[raw.trim()] : raw;
      if (typeof b !== 'boolean') return { error: `must be true or false, got ${describe(raw)}` };
      return { value: b };
    }
    case 'enum':
      if (typeof raw !== 'string' || !field.values.includes(raw)) return { error: `must be one of ${field.values.join(', ')}, got ${describe(raw)}` };
      return { value: raw };
    case 'list': {
      const list = fromEnv && typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw;
      if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.length > 0)) {
        return { error: `must be a list of non-empty strings, got ${describe(raw)}` };
      }
      return { value: list };
    }
    case 'string':
      if (typeof raw !== 'string' || raw.length === 0) return { error: `must be a non-empty string, got ${describe(raw)}` };
      if (field.pattern && !field.pattern.test(raw)) return { error: `must match ${field.pattern}, got ${describe(raw)}` };
      return { value: raw };
  }
}

function describe(raw: unknown): string {
  const text = JSON.stringify(raw) ?? String(raw);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
