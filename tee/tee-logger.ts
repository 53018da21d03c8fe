/**
 * The logger shape the TEE node accepts (structurally the gateway's `Logger`). Fields are flat scalars:
 * ids, sizes, durations, codes — the node never passes payloads, tensors or keys.
 */
export type TeeLogFields = Record<string, string | number | boolean | null | undefined>;
export type TeeLogger = {
  debug(message: string, fields?: TeeLogFields): void;
  info(message: string, fields?: TeeLogFields): void;
  warn(message: string, fields?: TeeLogFields): void;
  error(message: string, fields?: TeeLogFields): void;
};

export const SILENT_TEE_LOGGER: TeeLogger = { debug() {}, info() {}, warn() {}, error() {} };
