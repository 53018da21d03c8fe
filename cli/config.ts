import { parseCommandFlags } from './parse-command-flags';
import { ConfigError, loadConfigWithSources } from '../gateway/config';
import { describeEffectiveConfig } from './describe-effective-config';
import { SERVE_FLAG_OPTIONS, serveOverrides, type ServeFlags } from './serve-overrides';

export const summary = 'print the effective configuration and where each value came from (secrets redacted)';

const HELP = `usage: veil config [--json] [--host HOST] [--port PORT] [--http-host HOST] [--http-port PORT]

Prints the configuration \`veil serve\` would run with in this environment (same VEIL_CONFIG file, VEIL_* variables
and, if given, the same flags), one setting per line with its source: default (schema or profile default), file
(VEIL_CONFIG), flag or env (the variable's name). Values that may carry a credential (database and chain URLs) are
redacted; key material is never part of the configuration (only file paths are). Exit 2 if the configuration is invalid,
with every problem named.
  --json   one JSON array of { key, value, source, origin, env, redacted }`;

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandFlags<ServeFlags & { json?: boolean; help?: boolean }>('config', args, { ...SERVE_FLAG_OPTIONS, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, HELP);
  if ('exit' in parsed) return parsed.exit;
  const values = parsed.values;
  let settings;
  try {
    settings = describeEffectiveConfig(loadConfigWithSources({ overrides: serveOverrides(values) }));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`veil config: ${err.message}`);
    return 2;
  }
  if (values.json) {
    console.log(JSON.stringify(settings, null, 2));
    return 0;
  }
  const width = Math.max(...settings.map((s) => s.key.length));
  const shown = settings.map((s) => ({ ...s, text: JSON.stringify(s.value) }));
  const valueWidth = Math.min(48, Math.max(...shown.map((s) => s.text.length)));
  for (const s of shown) console.log(`${s.key.padEnd(width)}  ${s.text.padEnd(valueWidth)}  ${s.origin}`);
  return 0;
}
