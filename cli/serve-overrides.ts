/**
 * The flags `veil serve` takes and the config overrides they become, shared with `veil config` so it shows exactly
 * what `veil serve` with the same flags would run with.
 */
export const SERVE_FLAG_OPTIONS = {
  host: { type: 'string' }, port: { type: 'string' }, 'http-host': { type: 'string' }, 'http-port': { type: 'string' },
} as const;

export type ServeFlags = { host?: string; port?: string; 'http-host'?: string; 'http-port'?: string };

/** Flags → the loader's `overrides` layer (above the file, below env). A non-numeric port is passed on for the loader to refuse. */
export function serveOverrides(values: ServeFlags): Record<string, unknown> {
  const port = (text: string) => (/^\d+$/.test(text) ? Number(text) : text);
  const grpc: Record<string, unknown> = {};
  if (values.host !== undefined) grpc.host = values.host;
  if (values.port !== undefined) grpc.port = port(values.port);
  const http: Record<string, unknown> = {};
  if (values['http-host'] !== undefined) http.host = values['http-host'];
  if (values['http-port'] !== undefined) http.port = port(values['http-port']);
  return { grpc, http };
}
