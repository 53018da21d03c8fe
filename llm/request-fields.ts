import { LlmError } from './llm-error';

/** Helpers the OpenAI request parsers share: every error names its `param`, and none quotes a value of the request. */

/** OpenAI treats an explicit `null` as "not given" for every optional field, and so do we. */
export function isAbsent(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a value is, for messages ("a string", "an array"): its type only, since the value may be prompt text. */
export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'a non-finite number';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** A field name fit to print: request keys are caller-chosen and could be anything, including prompt text. */
export function argumentName(key: string): string {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(key) ? key : '(an unprintable name)';
}

/** `param` is built by the parser (sanitised keys, indexes); '' = the body as a whole. */
export function invalid(param: string, message: string): LlmError {
  return new LlmError('invalid_input', message, { param: param === '' ? undefined : param });
}

export function unsupported(param: string, message: string): LlmError {
  return new LlmError('unsupported_parameter', message, { param });
}
