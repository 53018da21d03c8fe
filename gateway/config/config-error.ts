export type ConfigProblem = { path: string; message: string; source: string };

/** Where each leaf's value came from, by path (`/tee/local` → `file veil.json`), for problems found after layering. */
export type ConfigSources = (path: string) => string;

/** Every invalid configuration value, reported together, each with its path and where it came from. */
export class ConfigError extends Error {
  override name = 'ConfigError' as const;
  readonly code = 'invalid_config' as const;
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.path}: ${p.message} (from ${p.source})`).join('\n')}`);
  }
}
