import { ERROR_SPECS, paymentRequiredOf, toOpenAIError, type VeilError } from '../errors';
import type { StoredAnswer } from './idempotency-store';

/**
 * A classified error as the HTTP answer: the OpenAI error object with its registry status, plus `retry-after`
 * (seconds) when the refusal says how long to wait, which the OpenAI SDKs honour.
 */
export function errorAnswer(error: VeilError): StoredAnswer & { body: Buffer } {
  const { status, body } = toOpenAIError(error);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  const retryAfterMs = error.details?.retryAfterMs;
  if (typeof retryAfterMs === 'number' && retryAfterMs > 0) headers['retry-after'] = String(Math.ceil(retryAfterMs / 1000));
  const required = paymentRequiredOf(error);
  if (required) headers['payment-required'] = required;
  return { status, headers, body: Buffer.from(JSON.stringify(body)) };
}

/**
 * Whether an answer may be stored for Idempotency-Key replay: a success, or a refusal that a retry would get again.
 * Never a failure worth retrying (5xx, retryable codes), a payment refusal or a cancellation, so the retry really runs.
 */
export function isFinalError(error: VeilError): boolean {
  const spec = ERROR_SPECS[error.code];
  // A 402 is answered again only until the client pays: the paid retry carries the same key and must run.
  return !spec.retryable && spec.http < 500 && spec.http !== 402 && error.code !== 'cancelled';
}

/** The SSE event a stream ends with when it fails after its headers were sent: the OpenAI error object. */
export function sseErrorEvent(error: VeilError): string {
  return `event: error\ndata: ${JSON.stringify(toOpenAIError(error).body)}\n\n`;
}
