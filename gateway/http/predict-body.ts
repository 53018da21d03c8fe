import { decodeCiphertextGroups, encodeCiphertextGroups, FheFramingError, type CiphertextGroup, type PredictResponse } from '../../proto';
import { VeilError } from '../errors';

/** The two forms of a predict body (gateway/http/FHE-HTTP.md): framed binary, or JSON with base64 ciphertexts. */
export type PredictForm = 'binary' | 'json';

const MEDIA: Record<PredictForm, string> = { binary: 'application/octet-stream', json: 'application/json' };

/** The form a `content-type` names, or a clear refusal naming the two accepted ones. */
export function predictFormOf(contentType: string | undefined): PredictForm {
  const media = mediaType(contentType);
  if (media === MEDIA.binary) return 'binary';
  if (media === MEDIA.json) return 'json';
  throw new VeilError('invalid_argument', `content-type must be ${MEDIA.binary} (framed ciphertexts) or ${MEDIA.json} (base64 ciphertexts), got "${truncate(media || '(none)')}"`, { param: 'content-type' });
}

/**
 * The answer's form from `Accept` (RFC 9110 weights; the most specific matching range counts): the better-weighted
 * of the two, ties and no `Accept` answering in the request's own form. @throws {VeilError} when neither is acceptable.
 */
export function answerFormOf(accept: string | undefined, requestForm: PredictForm): PredictForm {
  if (!accept || !accept.trim()) return requestForm;
  const ranges = accept.split(',').map((part) => {
    const [range = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    return { range, weight: Number.isFinite(weight) ? weight : 0 };
  });
  const weightOf = (media: string): number => {
    const [type] = media.split('/');
    let best: { specificity: number; weight: number } | undefined;
    for (const { range, weight } of ranges) {
      const specificity = range === media ? 2 : range === `${type}/*` ? 1 : range === '*/*' ? 0 : -1;
      if (specificity >= 0 && (!best || specificity > best.specificity)) best = { specificity, weight };
    }
    return best?.weight ?? 0;
  };
  const other: PredictForm = requestForm === 'binary' ? 'json' : 'binary';
  const own = weightOf(MEDIA[requestForm]);
  const alt = weightOf(MEDIA[other]);
  if (own <= 0 && alt <= 0) {
    throw new VeilError('invalid_argument', `accept must allow ${MEDIA.binary} or ${MEDIA.json}`, { param: 'accept' });
  }
  return alt > own ? other : requestForm;
}

/** Decodes a predict body into ciphertext groups (views into `body`, no copy for the binary form). */
export function decodePredictBody(form: PredictForm, body: Buffer): CiphertextGroup[] {
  if (form === 'binary') {
    try {
      return decodeCiphertextGroups(body);
    } catch (err) {
      if (err instanceof FheFramingError) throw new VeilError('invalid_argument', err.message, { param: err.param, cause: err });
      throw err;
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new VeilError('invalid_argument', 'the body is not valid JSON', { param: 'body' });
  }
  const groups = (parsed as { groups?: unknown } | null)?.groups;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(groups)) {
    throw new VeilError('invalid_argument', 'the body must be an object with "groups": [{"ciphertexts": ["<base64>", …]}, …]', { param: 'groups' });
  }
  return groups.map((group: unknown, i) => {
    const ciphertexts = (group as { ciphertexts?: unknown } | null)?.ciphertexts;
    if (typeof group !== 'object' || group === null || !Array.isArray(ciphertexts)) {
      throw new VeilError('invalid_argument', `groups[${i}] must be an object with "ciphertexts": ["<base64>", …]`, { param: `groups[${i}]` });
    }
    return {
      ciphertexts: ciphertexts.map((c: unknown, j) => {
        if (typeof c !== 'string' || !isBase64(c)) {
          throw new VeilError('invalid_argument', `groups[${i}].ciphertexts[${j}] must be a standard base64 string`, { param: `groups[${i}].ciphertexts[${j}]` });
        }
        return Buffer.from(c, 'base64');
      }),
    };
  });
}

/** The predict answer in `form`: the framed groups (evaluation time in a header), or JSON with base64 ciphertexts. */
export function encodePredictAnswer(form: PredictForm, response: PredictResponse): { contentType: string; body: Buffer | string } {
  if (form === 'binary') {
    const framed = encodeCiphertextGroups(response.groups);
    return { contentType: MEDIA.binary, body: Buffer.from(framed.buffer, framed.byteOffset, framed.byteLength) };
  }
  const groups = response.groups.map((g) => ({ ciphertexts: g.ciphertexts.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('base64')) }));
  return { contentType: MEDIA.json, body: JSON.stringify({ object: 'fhe.prediction', groups, eval_micros: response.evalMicros }) };
}

// Node's decoder skips characters outside the alphabet; a ciphertext must not silently lose some.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
function isBase64(value: string): boolean {
  return value.length % 4 === 0 && BASE64.test(value);
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function truncate(value: string): string {
  return value.length > 64 ? `${value.slice(0, 61)}...` : value;
}
