import type { PaymentRequired, PaymentRequirements } from '../../payments';
import type { CallHandle, ChannelPayer, ChargeCheck, SettledCall } from './create-channel-payer';
import { isPayerError, PayerError, type PayerErrorCode } from './payer-error';

export type PaymentRoundsOptions = {
  /**
   * Corrective answers handled per call (resync, sign again, retry). Each retry is sent only when the new voucher is
   * higher than the last (the payer learned something: a resync, or more of its own calls in flight), so this bounds
   * a race between concurrent calls, never a loop against a gateway that keeps refusing. Default 3.
   */
  maxCorrections?: number;
  /**
   * Pay up front with the requirements the same resource last settled under, saving the unpaid round trip; a gateway
   * whose ceiling for this call is higher answers "payment required" and the call is paid again. Default true.
   */
  prepay?: boolean;
  /** Told each settled receipt (charge and cumulative total; never a voucher or signature). */
  onSettled?(receipt: SettledCall, resource: string): void;
  /**
   * How long a call answered `payment_in_progress` is sent again with the same voucher. That answer means an earlier
   * attempt under the same idempotency key still holds its reservation — usually one cut by a replica that died, whose
   * lease lapses within `payments.reservationLeaseSeconds` (15 s by default) — so waiting it out serves the call
   * once instead of failing it. Default 30 s; 0 hands the answer to the app at once.
   */
  inProgressWaitMs?: number;
};

/** What one attempt of a call got back, in transport-neutral terms (HTTP 402 ≙ gRPC FAILED_PRECONDITION + trailer). */
export type RoundAnswer =
  | { transportError: true }
  | {
    transportError?: false; paymentRequired: boolean; required?: PaymentRequired; receipt?: string; check?: ChargeCheck;
    /** The gateway said `payment_in_progress` and the call may still be sent again. */
    inProgress?: boolean;
  };

/** One call's payment, attempt by attempt. */
export type PaymentRound = {
  /** The PAYMENT-SIGNATURE to send with the first attempt (prepaid), or undefined to send it unpaid. */
  first(): Promise<string | undefined>;
  /**
   * Settles or releases the attempt's payment and says what to do next: a header to retry with, or undefined when
   * the answer is final (served, refused for good, or not a payment matter).
   * @throws {PaymentMismatch} a receipt the payer did not authorize; {PayerError} the payer refuses to pay
   */
  answer(answer: RoundAnswer): Promise<string | undefined>;
};

/**
 * An HTTP answer that came from a balancer in front of the gateway, not from a gateway: 502 (the replica died or
 * dropped the connection mid-call) or 504 (it did not answer in time). The call may have been charged before its
 * answer was lost, so such an attempt is settled as a transport error (its ceiling stays counted as possibly charged).
 */
export function isBalancerFailure(status: number, receipt: string | undefined): boolean {
  return (status === 502 || status === 504) && receipt === undefined;
}

const PREPAY_FALLBACK = new Set<PayerErrorCode>(['ceiling_above_max_per_call', 'budget_exceeded', 'deposit_insufficient']);
const REMEMBERED_RESOURCES = 1_000;

/**
 * The x402 dance of one payer, shared by its transports (payingFetch for HTTP, payingInterceptor for gRPC): unpaid or
 * prepaid first; "payment required" → pay and retry; a receipt → settle (PaymentMismatch on an overcharge); a
 * corrective answer (with `extra.channelState`) → resync and retry while the voucher rises; a refusal without a receipt
 * → release the ceiling; a transport error → the ceiling stays as possibly charged.
 */
export function createPaymentRounds(payer: ChannelPayer, options: PaymentRoundsOptions = {}): { round(resource: string): PaymentRound } {
  const maxCorrections = options.maxCorrections ?? 3;
  const inProgressWaitMs = options.inProgressWaitMs ?? 30_000;
  const prepay = options.prepay ?? true;
  /** The requirements each resource last settled under (bounded: one entry per resource). */
  const lastSettled = new Map<string, PaymentRequirements>();

  return {
    round(resource) {
      let open: { handle: CallHandle; requirements: PaymentRequirements; header: string } | undefined;
      let lastVoucher = -1n;
      let corrections = 0;
      let done = false;
      let waitingSince: number | undefined;
      let waits = 0;
      const pay = async (requirements: PaymentRequirements) => {
        const { header, handle } = await payer.pay(requirements);
        open = { handle, requirements, header };
        lastVoucher = handle.voucherMax;
        return header;
      };
      return {
        async first() {
          const cached = prepay ? lastSettled.get(resource) : undefined;
          if (!cached || payer.refusal(cached) !== undefined) return undefined;
          try {
            return await pay(cached);
          } catch (err) {
            // The payer's own limits refused the remembered ceiling: ask the gateway what this call costs instead.
            if (isPayerError(err) && PREPAY_FALLBACK.has(err.code)) return undefined;
            throw err;
          }
        },
        async answer(answer) {
          if (done) throw new Error('this call already has its final answer');
          const paid = open;
          open = undefined;
          if (answer.transportError) {
            done = true;
            if (paid) payer.fail(paid.handle, { uncertain: true });
            return undefined;
          }
          if (paid && answer.receipt !== undefined) {
            done = true; // a charged answer is final whatever it says: paying again would pay twice
            const settled = payer.settle(paid.handle, answer.receipt, answer.check);
            if (lastSettled.size >= REMEMBERED_RESOURCES && !lastSettled.has(resource)) lastSettled.delete(lastSettled.keys().next().value!);
            lastSettled.set(resource, paid.requirements);
            options.onSettled?.(settled, resource);
            return undefined;
          }
          if (paid && answer.inProgress) {
            // The same call, the same voucher, after a pause: the earlier attempt's reservation lapses or its answer lands.
            waitingSince ??= Date.now();
            if (Date.now() - waitingSince < inProgressWaitMs) {
              open = paid;
              await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** waits++, 2_000)));
              return paid.header;
            }
          }
          if (paid) payer.fail(paid.handle);
          const required = answer.paymentRequired ? answer.required : undefined;
          if (!required || !Array.isArray(required.accepts)) {
            done = true;
            return undefined;
          }
          const requirements = required.accepts.find((r) => payer.refusal(r) === undefined);
          if (!requirements) {
            done = true;
            const why = required.accepts.map((r) => payer.refusal(r)).join('; ') || 'no requirements offered';
            throw new PayerError('requirements_refused', `refusing to pay ${resource}: ${why}`);
          }
          if (lastVoucher >= 0n) {
            // A paid attempt was refused: resync from the channel's state if the gateway sent it, and sign again only
            // if the voucher would rise (otherwise the gateway would refuse the same voucher again).
            if (++corrections > maxCorrections) return ((done = true), undefined);
            payer.resync(required);
            const status = payer.status();
            if (status.confirmed + status.inFlight + status.held + BigInt(requirements.amount) <= lastVoucher) return ((done = true), undefined);
          }
          return pay(requirements);
        },
      };
    },
  };
}
