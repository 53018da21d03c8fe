import { CONFIG_SCHEMA, isConfigField, type ConfigField, type ConfigSourceKind, type ConfigTree, type LoadedConfig } from '../gateway/config';

/** One leaf of the effective configuration as `veil config` shows it. */
export type EffectiveSetting = {
  /** Dotted path, as in the config file (`grpc.port`). */
  key: string;
  /** The value, or a redacted stand-in for a secret-bearing leaf. */
  value: unknown;
  /** Which layer set it: default | file | flag | env. */
  source: ConfigSourceKind;
  /** Where exactly: `env VEIL_GRPC_PORT`, `file /etc/veil.json`, `production profile default`, … */
  origin: string;
  env: string;
  redacted: boolean;
};

/**
 * Every leaf of the schema with its effective value and source, in schema order. Leaves marked `secret` (a value that
 * may carry a password or provider key) are shown only when they still hold their default sentinel; otherwise a URL
 * keeps its scheme and host (what an operator needs to see which database or chain) and loses the rest.
 */
export function describeEffectiveConfig(loaded: LoadedConfig): EffectiveSetting[] {
  const out: EffectiveSetting[] = [];
  const walk = (schema: ConfigTree, values: Record<string, unknown>, at: string[]) => {
    for (const [key, node] of Object.entries(schema)) {
      const path = [...at, key];
      if (!isConfigField(node)) {
        walk(node, values[key] as Record<string, unknown>, path);
        continue;
      }
      const source = loaded.sources.get(`/${path.join('/')}`) ?? { kind: 'default' as const, label: 'default' };
      const value = values[key];
      const redact = isSecret(node) && value !== node.default;
      out.push({ key: path.join('.'), value: redact ? redactSecret(String(value)) : value, source: source.kind, origin: source.label, env: node.env, redacted: redact });
    }
  };
  walk(CONFIG_SCHEMA, loaded.config as unknown as Record<string, unknown>, []);
  return out;
}

function isSecret(field: ConfigField): boolean {
  return field.kind === 'string' && field.secret === true;
}

/** `postgres://veil:pw@db:5432/veil` → `postgres://db:5432/<redacted>`; anything that is not a URL → `<redacted>`. */
export function redactSecret(value: string): string {
  try {
    const url = new URL(value);
    if (url.host) return `${url.protocol}//${url.host}/<redacted>`;
  } catch {
    // not a URL: nothing of it is safe to show
  }
  return '<redacted>';
}
