import { decodeX402, PAYMENT_REQUIRED_HEADER, PAYMENT_RESPONSE_HEADER, PAYMENT_SIGNATURE_HEADER, type PaymentRequired, type PaymentRequirements } from '../../payments';
import type { ChannelPayer, SettledCall } from './create-channel-payer';
import { isPayerError, PayerError, type PayerErrorCode } from './payer-error';

const PREPAY_FALLBACK = new Set<PayerErrorCode>(['ceiling_above_max_per_call', 'budget_exceeded', 'deposit_insufficient']);

export type PayingFetchOptions = {
  /**
   * Corrective 402s answered per call (resync, sign again, retry). Each retry is sent only when the new voucher is
   * higher than the last (the payer learned something: a resync, or more of its own calls in flight), so this bounds
   * a race between concurrent calls, never a loop against a gateway that keeps refusing. Default 3.
   */
  maxCorrections?: number;
  /**
   * Pay up front with the requirements the same resource (origin and path) last asked for, saving the unpaid round
   * trip; a gateway whose ceiling for this request is higher answers 402 and the call is paid again. Default true.
   */
  prepay?: boolean;
  /** Told each settled receipt (charge and cumulative total; never a voucher or signature). */
  onSettled?(receipt: SettledCall, url: string): void;
};

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * fetch that pays (x402 v2 over HTTP): the request goes out unpaid (or prepaid, see `prepay`); a 402 with
 * PAYMENT-REQUIRED is paid by `payer` (a voucher in PAYMENT-SIGNATURE) and the request sent again; the answer's
 * PAYMENT-RESPONSE is settled (checked against the payer's view, throwing PaymentMismatch on an overcharge). A
 * corrective 402 (one with `extra.channelState`) resyncs the payer and retries. An answer without a receipt releases
 * the call's ceiling; a network error leaves it as possibly charged. Bodies must be replayable (string, bytes,
 * URLSearchParams, FormData or Blob; a Request is cloned per attempt), since a paid call may be sent twice.
 *
 * @example
 * const pay = payingFetch(payer)
 * const res = await pay('http://127.0.0.1:8080/v1/chat/completions', { method: 'POST', body })
 */
export function payingFetch(payer: ChannelPayer, fetchImpl: Fetch = globalThis.fetch, options: PayingFetchOptions = {}): Fetch {
  const maxCorrections = options.maxCorrections ?? 3;
  const prepay = options.prepay ?? true;
  /** The last requirements each resource asked for (bounded: one entry per origin and path). */
  const lastAsked = new Map<string, PaymentRequirements>();
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const resource = resourceKey(url);
    const send = (signature?: string) => {
      const request = input instanceof Request ? input.clone() : input;
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
      if (signature === undefined) headers.delete(PAYMENT_SIGNATURE_HEADER);
      else headers.set(PAYMENT_SIGNATURE_HEADER, signature);
      return fetchImpl(request, { ...init, headers });
    };
    let lastVoucher = -1n;
    let settled = false;
    /** One paid attempt: the receipt is settled (or the ceiling released) before the answer is returned. */
    const paid = async (requirements: PaymentRequirements) => {
      const { header, handle } = await payer.pay(requirements);
      lastVoucher = handle.voucherMax;
      let response: Response;
      try {
        response = await send(header);
      } catch (err) {
        payer.fail(handle, { uncertain: true });
        throw err;
      }
      const receipt = response.headers.get(PAYMENT_RESPONSE_HEADER);
      if (receipt === null) payer.fail(handle);
      else {
        const receiptSettled = payer.settle(handle, receipt); // throws PaymentMismatch on a receipt the payer did not authorize
        settled = true;
        if (lastAsked.size >= 1_000 && !lastAsked.has(resource)) lastAsked.delete(lastAsked.keys().next().value!);
        lastAsked.set(resource, requirements);
        options.onSettled?.(receiptSettled, url);
      }
      return response;
    };

    const cached = prepay ? lastAsked.get(resource) : undefined;
    let response: Response | undefined;
    if (cached && payer.refusal(cached) === undefined) {
      try {
        response = await paid(cached);
      } catch (err) {
        // The payer's own limits refused the remembered ceiling: ask the gateway what this request costs instead.
        if (!isPayerError(err) || !PREPAY_FALLBACK.has(err.code)) throw err;
      }
    }
    response ??= await send();
    // A charged answer is final whatever its status: paying again would pay twice.
    for (let corrections = 0; response.status === 402 && !settled;) {
      const required = readPaymentRequired(response);
      if (!required) return response; // a 402 without x402 requirements is not ours to pay
      const requirements = required.accepts.find((r) => payer.refusal(r) === undefined);
      if (!requirements) {
        const why = required.accepts.map((r) => payer.refusal(r)).join('; ') || 'no requirements offered';
        throw new PayerError('requirements_refused', `refusing to pay ${url}: ${why}`);
      }
      // Refused only now: a streamed body that is never answered 402 (an upload to a free route) passes through.
      if (init?.body instanceof ReadableStream) throw new TypeError('payingFetch: a streamed request body cannot be sent again after a 402; pass bytes or a string');
      if (lastVoucher >= 0n) {
        // A paid attempt was refused: resync from the channel's state if the gateway sent it, and sign again only if
        // the voucher would rise (otherwise the gateway would refuse the same voucher again).
        if (++corrections > maxCorrections) return response;
        payer.resync(required);
        const status = payer.status();
        if (status.confirmed + status.inFlight + BigInt(requirements.amount) <= lastVoucher) return response;
      }
      await response.body?.cancel().catch(() => undefined);
      response = await paid(requirements);
    }
    return response;
  };
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
