import { decodeX402, PAYMENT_REQUIRED_HEADER, PAYMENT_RESPONSE_HEADER, PAYMENT_SIGNATURE_HEADER, type PaymentRequired } from '../../payments';
import type { ChannelPayer, SettledCall } from './create-channel-payer';
import { PayerError } from './payer-error';

export type PayingFetchOptions = {
  /**
   * Corrective 402s answered per call (resync, sign again, retry). Each retry is sent only when the new voucher is
   * higher than the last (the payer learned something: a resync, or more of its own calls in flight), so this bounds
   * a race between concurrent calls, never a loop against a gateway that keeps refusing. Default 3.
   */
  maxCorrections?: number;
  /** Told each settled receipt (charge and cumulative total; never a voucher or signature). */
  onSettled?(receipt: SettledCall, url: string): void;
};

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * fetch that pays (x402 v2 over HTTP): the request goes out unpaid; a 402 with PAYMENT-REQUIRED is paid by `payer`
 * (a voucher in PAYMENT-SIGNATURE) and the request sent again; the answer's PAYMENT-RESPONSE is settled (checked
 * against the payer's view, throwing PaymentMismatch on an overcharge). A corrective 402 (one with
 * `extra.channelState`) resyncs the payer and retries. An answer without a receipt releases the call's ceiling; a
 * network error leaves it as possibly charged. Bodies must be replayable (string, bytes, URLSearchParams, FormData
 * or Blob; a Request is cloned per attempt), since a paid call is sent twice.
 *
 * @example
 * const pay = payingFetch(payer)
 * const res = await pay('http://127.0.0.1:8080/v1/chat/completions', { method: 'POST', body })
 */
export function payingFetch(payer: ChannelPayer, fetchImpl: Fetch = globalThis.fetch, options: PayingFetchOptions = {}): Fetch {
  const maxCorrections = options.maxCorrections ?? 3;
  return async (input, init) => {
    if (init?.body instanceof ReadableStream) throw new TypeError('payingFetch: a streamed request body cannot be sent again after a 402; pass bytes or a string');
    const url = input instanceof Request ? input.url : String(input);
    const send = (signature?: string) => {
      const request = input instanceof Request ? input.clone() : input;
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
      if (signature === undefined) headers.delete(PAYMENT_SIGNATURE_HEADER);
      else headers.set(PAYMENT_SIGNATURE_HEADER, signature);
      return fetchImpl(request, { ...init, headers });
    };

    let response = await send();
    if (response.status !== 402) return response;
    let corrections = 0;
    let lastVoucher = -1n;
    for (;;) {
      const required = readPaymentRequired(response);
      if (!required) return response; // a 402 without x402 requirements is not ours to pay
      const requirements = required.accepts.find((r) => payer.refusal(r) === undefined);
      if (!requirements) {
        const why = required.accepts.map((r) => payer.refusal(r)).join('; ') || 'no requirements offered';
        throw new PayerError('requirements_refused', `refusing to pay ${url}: ${why}`);
      }
      await response.body?.cancel().catch(() => undefined);
      const { header, handle } = await payer.pay(requirements);
      lastVoucher = handle.voucherMax;
      try {
        response = await send(header);
      } catch (err) {
        payer.fail(handle, { uncertain: true });
        throw err;
      }
      const receipt = response.headers.get(PAYMENT_RESPONSE_HEADER);
      if (receipt !== null) {
        const settled = payer.settle(handle, receipt); // throws PaymentMismatch on a receipt the payer did not authorize
        options.onSettled?.(settled, url);
        return response;
      }
      payer.fail(handle);
      if (response.status !== 402) return response;
      const corrective = readPaymentRequired(response);
      if (!corrective || !corrective.accepts.some((r) => r?.extra?.channelState !== undefined)) return response;
      payer.resync(corrective);
      if (++corrections > maxCorrections) return response;
      // Sign again only if the voucher would rise: otherwise the gateway would refuse the same voucher again.
      const status = payer.status();
      const next = status.confirmed + status.inFlight + BigInt(requirements.amount);
      if (next <= lastVoucher) return response;
    }
  };
}

function readPaymentRequired(response: Response): PaymentRequired | undefined {
  const header = response.headers.get(PAYMENT_REQUIRED_HEADER);
  if (header === null) return undefined;
  const value = decodeX402<PaymentRequired>(header, 'PAYMENT-REQUIRED');
  return value && typeof value === 'object' && Array.isArray(value.accepts) ? value : undefined;
}
