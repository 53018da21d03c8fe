import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { VeilError } from '../errors';
import { callerKey } from '../grpc/call-context';
import { createAnswerWriter, replayAnswer, type AnswerWriter } from './answer-writer';
import { errorAnswer, isFinalError } from './error-answer';
import type { HttpCallContext } from './http-call-context';
import type { IdempotencyStore, SettledAnswer, StoredAnswer } from './idempotency-store';
import { toHttpVeilError } from './to-http-veil-error';

export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** Printable ASCII, 1..255 characters: what Stripe and the OpenAI SDKs send (`stainless-python-retry-<uuid>`). */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export type AnswerOnceParameters = {
  request: FastifyRequest;
  reply: FastifyReply;
  context: HttpCallContext;
  store: IdempotencyStore;
  /** What, besides the body, makes two requests the same one (route, routing headers). */
  identity: readonly string[];
  body: Buffer;
  bodyLimitBytes: number;
  run(writer: AnswerWriter): Promise<void>;
};

/**
 * Runs a request at most once per `Idempotency-Key` (per caller): without the header it simply runs; with it, a
 * repeat of the same request gets the stored answer, a concurrent duplicate waits for the first and gets its
 * answer, and the same key on another request is refused (409). What the first run answered is recorded as it is
 * written — including an error answer, which is stored only if a retry would get it again.
 */
export async function answerOnce(params: AnswerOnceParameters): Promise<void> {
  const { request, reply, context, store } = params;
  const raw = request.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return params.run(createAnswerWriter(reply));
  if (typeof raw !== 'string' || !KEY_PATTERN.test(raw)) {
    throw new VeilError('invalid_argument', 'Idempotency-Key must be 1..255 printable ASCII characters', { param: 'Idempotency-Key' });
  }
  const fingerprint = createHash('sha256').update(JSON.stringify(params.identity)).update('\u0000').update(params.body).digest('hex');
  // A waiter whose first run was not stored (it failed in a way worth retrying) claims again: its retry really runs.
  for (let attempt = 0; ; attempt++) {
    const claim = store.claim(callerKey(context), raw, fingerprint);
    if (claim.state === 'stored') return replayAnswer(reply, claim.answer);
    if (claim.state === 'pending') {
      const outcome = await untilAborted(claim.answer, context.signal);
      if (outcome.kept || attempt >= 1) return replayAnswer(reply, outcome.answer);
      continue;
    }
    let settled = false;
    const settle = (answer: StoredAnswer, keep: boolean) => {
      settled = true;
      claim.settle(answer, keep);
    };
    try {
      await params.run(createAnswerWriter(reply, settle));
    } catch (err) {
      const error = toHttpVeilError(err, { bodyLimitBytes: params.bodyLimitBytes, sealedRoute: true });
      if (!settled) settle(errorAnswer(error), isFinalError(error));
      throw error;
    } finally {
      // A run that returned without writing an answer (it cannot, but a future route might) must not wedge the key.
      if (!settled) settle(errorAnswer(new VeilError('internal')), false);
    }
    return;
  }
}

/** The first run's answer, and whether it was stored; or this waiter's own cancellation/deadline. */
function untilAborted(answer: Promise<SettledAnswer>, signal: AbortSignal): Promise<SettledAnswer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    answer.then((settled) => {
      signal.removeEventListener('abort', onAbort);
      resolve(settled);
    }, reject);
  });
}
