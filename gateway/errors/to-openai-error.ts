import { ERROR_SPECS } from './error-codes';
import { toVeilError } from './to-veil-error';

export type OpenAIErrorBody = { error: { message: string; type: string; param: string | null; code: string } };

/** Encodes any error as the OpenAI HTTP error shape; all four fields are always present, as the schema requires. */
export function toOpenAIError(err: unknown): { status: number; body: OpenAIErrorBody } {
  const e = toVeilError(err);
  const spec = ERROR_SPECS[e.code];
  return { status: spec.http, body: { error: { message: e.message, type: spec.type, param: e.param ?? null, code: e.code } } };
}
