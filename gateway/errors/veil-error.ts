import { ERROR_SPECS, type ErrorCode } from './error-codes';

export type VeilErrorOptions = {
  /** The request field at fault (OpenAI `param`), e.g. `model_id` or `inputs[3]`. */
  param?: string;
  /** Diagnostic context for the server log only; never serialised to clients. */
  details?: Record<string, unknown>;
  cause?: unknown;
};

/**
 * The one error type that reaches clients. `message` must be safe to publish: it names what is wrong,
 * never payload bytes, plaintexts, keys or internal state (those go in `details`/`cause`, which are logged).
 */
export class VeilError extends Error {
  override name = 'VeilError' as const;
  readonly code: ErrorCode;
  readonly param: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options: VeilErrorOptions = {}) {
    super(message ?? ERROR_SPECS[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.param = options.param;
    this.details = options.details;
  }
}
