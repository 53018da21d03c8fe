import { InterceptingCall, Metadata, status as GrpcStatus, type Interceptor, type StatusObject } from '@grpc/grpc-js';
import { decodeX402, PAYMENT_REQUIRED_HEADER, PAYMENT_RESPONSE_HEADER, PAYMENT_SIGNATURE_HEADER, type PaymentRequired } from '../../payments';
import type { ChannelPayer, ChargeCheck } from './create-channel-payer';
import { createPaymentRounds, type PaymentRound, type PaymentRoundsOptions, type RoundAnswer } from './create-payment-rounds';

export type PayingInterceptorOptions = PaymentRoundsOptions & {
  /**
   * What a unary call's receipt may charge beyond its voucher ceiling (e.g. the TEE transport: the pinned prices × the
   * usage the enclave signed); `request` is the message the app sent. Undefined: the ceiling only.
   */
  check?(path: string, request: unknown, receipt: string): Promise<ChargeCheck | undefined>;
};

/**
 * A grpc-js client interceptor that pays (the x402 payloads in gRPC metadata): a unary call answered
 * FAILED_PRECONDITION with a `payment-required` trailer is paid by `payer` (`payment-signature` metadata) and sent
 * again; the `payment-response` trailer of the answer is settled (PaymentMismatch on an overcharge, surfaced as the
 * call's error); a corrective answer resyncs and retries. The same rounds as payingFetch (createPaymentRounds).
 * A server-streaming call (Tee.InferStream: the voucher pays the whole context up front, the receipt comes in the
 * trailer) is paid the same way, its messages passed on as they arrive; it is retried only while nothing was
 * delivered, so an app never sees a message twice. Client- and bidi-streaming calls pass through untouched: uploads
 * are not billed, and the paid bidi stream (Tee.InferStreamPaid, its top-ups in the stream) is paid by the TEE
 * transport itself (client/tee/pay-grpc-tee-stream.ts).
 *
 * @example
 * const client = createVeilClient({ target, interceptors: [payingInterceptor(payer)] })
 */
export function payingInterceptor(payer: ChannelPayer, options: PayingInterceptorOptions = {}): Interceptor {
  const rounds = createPaymentRounds(payer, options);
  return (callOptions, nextCall) => {
    const method = callOptions.method_definition;
    if (method.requestStream) return new InterceptingCall(nextCall(callOptions));
    if (method.responseStream) return payServerStream(rounds.round(method.path), callOptions, nextCall);
    const round = rounds.round(method.path);
    let request: unknown;
    /** A paid retry in progress (a fresh call): the app's cancel reaches it too. */
    let retrying: ReturnType<typeof nextCall> | undefined;
    let cancelled = false;
    return new InterceptingCall(nextCall(callOptions), {
      start(metadata, listener, next) {
        // The first attempt goes through this call; retries are fresh calls whose answer is delivered through it.
        let message: unknown;
        let messageNext: ((m: unknown) => void) | undefined;
        // grpc-js hands a unary call's listener a null message before an error status, and holds the status until that
        // message is passed on: the held message (the final attempt's, or null) always goes on before the status.
        const deliver = (status: StatusObject, statusNext: (s: StatusObject) => void) => {
          if (messageNext) messageNext(message ?? null);
          else if (message !== undefined && message !== null) listener.onReceiveMessage(message);
          statusNext(status);
        };
        const fail = (err: unknown, statusNext: (s: StatusObject) => void) => {
          message = null;
          deliver({ code: GrpcStatus.FAILED_PRECONDITION, details: (err as Error).message, metadata: codeTrailer(err) }, statusNext);
        };
        const decide = async (status: StatusObject) => {
          const answer = answerOf(status, true);
          if (!answer.transportError && answer.receipt !== undefined && options.check) answer.check = await options.check(method.path, request, answer.receipt);
          return round.answer(answer);
        };
        const retry = (signature: string, statusNext: (s: StatusObject) => void) => {
          if (cancelled) {
            // Cancelled while waiting to send again (payment_in_progress): nothing more is sent; the voucher it carries
            // counts as possibly charged, as any call cut short does.
            void round.answer({ transportError: true }).catch(() => undefined);
            message = null;
            deliver({ code: GrpcStatus.CANCELLED, details: 'cancelled by the client', metadata: new Metadata() }, statusNext);
            return;
          }
          const md = metadata.clone();
          md.set(PAYMENT_SIGNATURE_HEADER, signature);
          message = null;
          const call = nextCall(callOptions);
          retrying = call;
          call.start(md, {
            onReceiveMessage(m) {
              message = m;
            },
            onReceiveStatus(status) {
              decide(status).then(
                (again) => (again === undefined ? deliver(status, statusNext) : retry(again, statusNext)),
                (err: unknown) => fail(err, statusNext),
              );
            },
          });
          call.sendMessage(request);
          call.halfClose();
        };
        round.first().then((signature) => {
          if (signature === undefined) metadata.remove(PAYMENT_SIGNATURE_HEADER);
          else metadata.set(PAYMENT_SIGNATURE_HEADER, signature);
          next(metadata, {
            onReceiveMetadata(md, mdNext) {
              mdNext(md);
            },
            onReceiveMessage(m, mNext) {
              message = m; // held until the status says whether this answer is final
              messageNext = mNext;
            },
            onReceiveStatus(status, statusNext) {
              decide(status).then(
                (again) => (again === undefined ? deliver(status, statusNext) : retry(again, statusNext)),
                (err: unknown) => fail(err, statusNext),
              );
            },
          });
        }, (err: unknown) => {
          // The payer refused before anything was sent (the call is never started): it fails with the payer's reason.
          listener.onReceiveStatus({ code: GrpcStatus.FAILED_PRECONDITION, details: (err as Error).message, metadata: codeTrailer(err) });
        });
      },
      sendMessage(m, next) {
        request = m; // kept to send again after a payment-required answer
        next(m);
      },
      cancel(next) {
        cancelled = true;
        retrying?.cancelWithStatus(GrpcStatus.CANCELLED, 'cancelled by the client');
        next();
      },
    });
  };
}

type NextCall = Parameters<Interceptor>[1];

/** A call whose reads (the app's flow control) reach whichever attempt is delivering: grpc-js has no requester hook for them. */
class StreamAttempts extends InterceptingCall {
  constructor(private readonly current: () => ReturnType<NextCall> | undefined, ...rest: ConstructorParameters<typeof InterceptingCall>) {
    super(...rest);
  }

  override startRead(): void {
    const retry = this.current();
    if (retry) retry.startRead();
    else super.startRead();
  }
}

/** payingInterceptor for a server-streaming call: the rounds of a unary call, messages passed on as they arrive. */
function payServerStream(round: PaymentRound, callOptions: Parameters<Interceptor>[0], nextCall: NextCall): InterceptingCall {
  let request: unknown;
  let retrying: ReturnType<NextCall> | undefined;
  let received = 0;
  return new StreamAttempts(() => retrying, nextCall(callOptions), {
    start(metadata, listener, next) {
      const fail = (err: unknown, statusNext: (s: StatusObject) => void) =>
        statusNext({ code: GrpcStatus.FAILED_PRECONDITION, details: (err as Error).message, metadata: codeTrailer(err) });
      // Once a message went to the app the answer is final: a retry would deliver the stream's start twice.
      const decide = (status: StatusObject) => round.answer(answerOf(status, received === 0));
      const settle = (status: StatusObject, statusNext: (s: StatusObject) => void) => {
        decide(status).then(
          (again) => (again === undefined ? statusNext(status) : retry(again, statusNext)),
          (err: unknown) => fail(err, statusNext),
        );
      };
      const retry = (signature: string, statusNext: (s: StatusObject) => void) => {
        const md = metadata.clone();
        md.set(PAYMENT_SIGNATURE_HEADER, signature);
        const call = nextCall(callOptions);
        retrying = call;
        call.start(md, {
          onReceiveMessage(m) {
            received++;
            listener.onReceiveMessage(m);
          },
          onReceiveStatus: (status) => settle(status, statusNext),
        });
        call.sendMessage(request);
        call.halfClose();
        call.startRead(); // the read the app asked of the refused attempt
      };
      round.first().then((signature) => {
        if (signature === undefined) metadata.remove(PAYMENT_SIGNATURE_HEADER);
        else metadata.set(PAYMENT_SIGNATURE_HEADER, signature);
        next(metadata, {
          onReceiveMessage(m, mNext) {
            received++;
            mNext(m);
          },
          onReceiveStatus: (status, statusNext) => settle(status, statusNext),
        });
      }, (err: unknown) => {
        listener.onReceiveStatus({ code: GrpcStatus.FAILED_PRECONDITION, details: (err as Error).message, metadata: codeTrailer(err) });
      });
    },
    sendMessage(m, next) {
      request = m;
      next(m);
    },
    cancel(next) {
      retrying?.cancelWithStatus(GrpcStatus.CANCELLED, 'cancelled by the client');
      next();
    },
  });
}

/**
 * What a call's final status says about its payment, the one rule for unary calls and server streams. No gateway
 * answered (the replica died, the connection dropped: a status without the gateway's `veil-error-code`): the call may
 * have been charged before its answer was lost, so its ceiling stays counted as possibly charged — the next voucher
 * covers it, and a retry under the same idempotency key replays the receipt if it was. "Payment required" is acted on
 * only while the call may still be sent again (`mayRetry`: nothing of it reached the app yet).
 */
function answerOf(status: StatusObject, mayRetry: boolean): RoundAnswer {
  if (status.code !== GrpcStatus.OK && status.metadata.get('veil-error-code').length === 0) return { transportError: true };
  const paymentRequired = mayRetry && status.code === GrpcStatus.FAILED_PRECONDITION && status.metadata.get(PAYMENT_REQUIRED_HEADER).length > 0;
  const inProgress = mayRetry && status.code === GrpcStatus.ABORTED && single(status.metadata, 'veil-error-code') === 'payment_in_progress';
  return { paymentRequired, inProgress, required: paymentRequired ? readRequired(status.metadata) : undefined, receipt: single(status.metadata, PAYMENT_RESPONSE_HEADER) };
}

function codeTrailer(err: unknown): Metadata {
  const trailer = new Metadata();
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') trailer.set('veil-error-code', code);
  return trailer;
}

function single(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return value === undefined ? undefined : String(value);
}

function readRequired(metadata: Metadata): PaymentRequired | undefined {
  const header = single(metadata, PAYMENT_REQUIRED_HEADER);
  if (header === undefined) return undefined;
  const value = decodeX402<PaymentRequired>(header, 'payment-required');
  return value && typeof value === 'object' && Array.isArray(value.accepts) ? value : undefined;
}
