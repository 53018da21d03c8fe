import { decodeX402, PAYMENT_REQUIRED_HEADER, PAYMENT_RESPONSE_HEADER, PAYMENT_SIGNATURE_HEADER, type PaymentRequired } from '../../payments';
import type { ChannelPayer } from './create-channel-payer';
import { createPaymentRounds, isBalancerFailure, type PaymentRoundsOptions } from './create-payment-rounds';

export type PayingFetchOptions = PaymentRoundsOptions;

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * fetch that pays (x402 v2 over HTTP): the request goes out unpaid (or prepaid, see `prepay`); a 402 with
 * PAYMENT-REQUIRED is paid by `payer` (a voucher in PAYMENT-SIGNATURE) and the request sent again; the answer's
 * PAYMENT-RESPONSE is settled (checked against the payer's view, throwing PaymentMismatch on an overcharge). A
 * corrective 402 (one with `extra.channelState`) resyncs the payer and retries. An answer without a receipt releases
 * the call's ceiling; a network error leaves it as possibly charged. Bodies must be replayable (string, bytes,
 * URLSearchParams, FormData or Blob; a Request is cloned per attempt) when a call is answered 402.
 *
 * @example
 * const pay = payingFetch(payer)
 * const res = await pay('http://127.0.0.1:8080/v1/chat/completions', { method: 'POST', body })
 */
export function payingFetch(payer: ChannelPayer, fetchImpl: Fetch = globalThis.fetch, options: PayingFetchOptions = {}): Fetch {
  const rounds = createPaymentRounds(payer, options);
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const send = (signature?: string) => {
      const request = input instanceof Request ? input.clone() : input;
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
      if (signature === undefined) headers.delete(PAYMENT_SIGNATURE_HEADER);
      else headers.set(PAYMENT_SIGNATURE_HEADER, signature);
      return fetchImpl(request, { ...init, headers });
    };
    const round = rounds.round(resourceKey(url));
    let signature = await round.first();
    for (;;) {
      let response: Response;
      try {
        response = await send(signature);
      } catch (err) {
        await round.answer({ transportError: true });
        throw err;
      }
      const paymentRequired = response.status === 402;
      const receipt = response.headers.get(PAYMENT_RESPONSE_HEADER) ?? undefined;
      if (isBalancerFailure(response.status, receipt)) {
        await round.answer({ transportError: true });
        return response;
      }
      // A streamed body cannot be sent again: refused only when a 402 asks for it, so uploads to free routes pass.
      const replayable = !(init?.body instanceof ReadableStream);
      const inProgress = replayable && receipt === undefined && response.status === 409 && (await errorCodeOf(response)) === 'payment_in_progress';
      signature = await round.answer({ paymentRequired: paymentRequired && replayable, inProgress, required: paymentRequired ? readPaymentRequired(response) : undefined, receipt });
      if (signature !== undefined) {
        await response.body?.cancel().catch(() => undefined);
        continue;
      }
      if (paymentRequired && !replayable && receipt === undefined) throw new TypeError('payingFetch: a streamed request body cannot be sent again after a 402; pass bytes or a string');
      return response;
    }
  };
}

/** The OpenAI-shaped error object's code, read from a copy so the app still gets the whole body. */
async function errorCodeOf(response: Response): Promise<string | undefined> {
  try {
    const code = ((await response.clone().json()) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** Origin and path: what one price applies to (the query and fragment are not part of the resource). */
function resourceKey(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url;
  }
}

function readPaymentRequired(response: Response): PaymentRequired | undefined {
  const header = response.headers.get(PAYMENT_REQUIRED_HEADER);
  if (header === null) return undefined;
  const value = decodeX402<PaymentRequired>(header, 'PAYMENT-REQUIRED');
  return value && typeof value === 'object' && Array.isArray(value.accepts) ? value : undefined;
}
