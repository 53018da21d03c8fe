/**
 * The one rule for what a child process inherits: an allow-list of harmless variables (search path, home, locale,
 * temp dir, terminal, time zone) plus what the caller names explicitly. Anything else — above all
 * `VEIL_CHAIN_PRIVATE_KEY`, API keys, cloud credentials — stays in this process, so a spawned anvil, `veil worker`
 * or `veil serve` never sees a secret it was not meant to have (and cannot leak it through its own logs or crash
 * dumps).
 */
const ALLOWED = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'TMP', 'TEMP', 'TERM', 'TZ', 'LANG', 'LANGUAGE',
  // Windows needs these to start any process at all.
  'SYSTEMROOT', 'SystemRoot', 'COMSPEC', 'PATHEXT', 'WINDIR',
]);

export type ChildProcessEnvParameters = {
  /** Variables the child needs, passed as given (e.g. `VEIL_GRPC_PORT`). */
  extra?: Record<string, string | undefined>;
  /** The environment to filter (default `process.env`; injected for tests). */
  env?: Record<string, string | undefined>;
};

/**
 * @example spawn(anvilPath, args, { env: childProcessEnv() })
 * @example spawn(process.execPath, [veil, 'worker'], { env: childProcessEnv({ extra: { VEIL_LOG_LEVEL: 'warn' } }) })
 */
export function childProcessEnv({ extra = {}, env = process.env }: ChildProcessEnvParameters = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && (ALLOWED.has(name) || name.startsWith('LC_'))) out[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) out[name] = value;
  return out;
}
