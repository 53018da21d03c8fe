import * as grpc from '@grpc/grpc-js';
import { callServerStream, callUnary, loadVeilProto, traceGrpcCalls, type CallLimitErrors, type GetTeeEvidenceResponse, type TeeInferResponse, type TeeStreamEvent } from '../../proto';
import { isTeeErrorCode, TeeError, type TeeOperation } from '../../tee';
import { apiKeyInterceptors } from '../api-key-interceptor';
import { fromServiceError, VeilClientError } from '../veil-client-error';
import { createPaymentRounds, payingInterceptor, type ChannelPayer, type PaymentRoundsOptions } from '../payments';
import { createChargeChecker } from './create-charge-checker';
import { payGrpcTeeStream } from './pay-grpc-tee-stream';
import type { PriceTable } from '../../payments';

/** Per-call limits for TEE calls. */
export type TeeCallOptions = { deadlineMs?: number; signal?: AbortSignal };

/** How the TEE SDK reports a call the caller cancelled or let run out of time. @internal */
export const TEE_CALL_ERRORS: CallLimitErrors = {
  cancelled: () => new TeeError('cancelled', 'the call was cancelled'),
  deadlineExceeded: () => new VeilClientError('deadline_exceeded', 'the deadline expired before the call finished', grpc.status.DEADLINE_EXCEEDED),
};

/** A node's evidence for the client's nonce, and the id of the node it belongs to. */
export type TeeRoute = { nodeId: string; evidence: GetTeeEvidenceResponse };

/**
 * How the client reaches TEE nodes through a router (the gateway's veil.v1.Tee): evidence comes with a node id,
 * and sealed requests are addressed to that node. Failures: `TeeError` for TEE codes (e.g. `tee_replay`),
 * `VeilClientError` for gateway codes (`tee_node_unavailable`, `no_attested_worker`, `model_not_found`, …).
 */
export type RoutedTeeTransport = {
  getEvidence(request: { modelId: string; nonce: Uint8Array; excludeNodeIds: string[] }, options?: TeeCallOptions): Promise<TeeRoute>;
  infer(request: RoutedTeeInferRequest, options?: TeeCallOptions): Promise<TeeInferResponse>;
  /**
   * A streamed answer (chat with `stream: true`): the node's sealed events in the order the relay delivers them,
   * unverified. Ends when the relay's stream ends; the client checks that it ended where it should.
   */
  inferStream?(request: RoutedTeeInferRequest, options?: TeeCallOptions): AsyncIterable<TeeStreamEvent>;
  close?(): void;
};

/** A sealed request addressed to one node. `operation` and `idempotencyKey` are cleartext routing hints the HTTP wire needs. */
export type RoutedTeeInferRequest = {
  nodeId: string;
  modelId: string;
  sealedRequest: Uint8Array;
  /** What the sealed (version-2) body asks; HTTP picks the route by it, gRPC does not need it. */
  operation?: TeeOperation;
  /** Sent as `Idempotency-Key` over HTTP: the gateway answers a repeat of these exact bytes from its store. */
  idempotencyKey?: string;
};

export type CreateGatewayTeeTransportOptions = {
  /** host:port of the gateway. */
  target: string;
  credentials?: grpc.ChannelCredentials;
  /** An API key from `veil keys create`, sent as `authorization: Bearer <key>` on every call. */
  apiKey?: string;
  /** Default deadline of each call. */
  deadlineMs?: number;
  maxMessageBytes?: number;
  /**
   * Pays a charging gateway (issue #11): Infer per call through payingInterceptor; streams over Tee.InferStreamPaid on
   * the gateway's credit window, each in-band top-up request paid from this payer (within maxPerCall / maxSpend) and
   * sent in the stream, each window's receipt checked against `prices` × the usage the enclave signed.
   */
  payer?: ChannelPayer;
  /** How the payer's rounds run (prepay, corrections, onSettled). */
  payment?: PaymentRoundsOptions;
  /** The prices the app agreed to; default: the gateway's own (Models.GetPricing), read on the first paid stream and pinned. */
  prices?: PriceTable;
};

/**
 * A gRPC transport to the gateway's veil.v1.Tee service.
 * @example const router = createGatewayTeeTransport({ target: '127.0.0.1:50051' });
 */
export function createGatewayTeeTransport(options: CreateGatewayTeeTransportOptions): RoutedTeeTransport {
  const proto = loadVeilProto();
  const max = options.maxMessageBytes ?? 64 * 1024 * 1024;
  const stub = new proto.services.Tee(options.target, options.credentials ?? grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': max,
    'grpc.max_receive_message_length': max,
    // A client span per call, its traceparent sent in metadata (OpenTelemetry API only; no-op without a tracer).
    interceptors: [traceGrpcCalls('veil-client'), ...(apiKeyInterceptors(options.apiKey).interceptors ?? []), ...(options.payer ? [payingInterceptor(options.payer, {
      ...options.payment,
      // A TEE answer's charge is held to the pinned prices × the usage its enclave signed, as on HTTP.
      check: async (path, request, receipt) => (path === '/veil.v1.Tee/Infer' ? charges.check(request as RoutedTeeInferRequest, receipt, { charged: 0n }) : undefined),
    })] : [])],
  });
  const errors = {
    ...TEE_CALL_ERRORS,
    fromStatus: (err: grpc.ServiceError) => {
      const e = fromServiceError(err);
      return isTeeErrorCode(e.code) ? new TeeError(e.code, e.message, { grpc: err.code }, e.param === undefined ? undefined : { param: e.param }) : e;
    },
  };
  const unary = <Res>(method: 'GetEvidence' | 'Infer', request: unknown, opts: TeeCallOptions = {}): Promise<Res> => {
    const deadlineMs = opts.deadlineMs ?? options.deadlineMs;
    return callUnary<Res>(stub, method, request, { deadline: deadlineMs ? Date.now() + deadlineMs : undefined, signal: opts.signal }, errors);
  };
  const routed = ({ nodeId, modelId, sealedRequest }: RoutedTeeInferRequest) => ({ nodeId, modelId, sealedRequest });
  const payer = options.payer;
  const rounds = payer ? createPaymentRounds(payer, options.payment) : undefined;
  const models = payer ? new proto.services.Models(options.target, options.credentials ?? grpc.credentials.createInsecure(), {
    interceptors: [traceGrpcCalls('veil-client'), ...(apiKeyInterceptors(options.apiKey).interceptors ?? [])],
  }) : undefined;
  const charges = createChargeChecker({
    prices: options.prices,
    fetchPricing: async () => JSON.parse((await callUnary<{ pricingJson: string }>(models!, 'GetPricing', {}, {}, errors)).pricingJson) as unknown,
  });
  return {
    getEvidence: async (request, opts) => {
      const route = await unary<TeeRoute>('GetEvidence', request, opts);
      // Charges are checked against usage this node signs; connectTeeModel refuses the node if its evidence does not
      // attest this very address, before any paid request is sealed to it.
      if (route.evidence?.identity) charges.remember(route.nodeId, route.evidence.identity.signingAddress);
      return route;
    },
    infer: (request, opts) => unary('Infer', routed(request), opts),
    inferStream: (request, opts = {}) => {
      const deadlineMs = opts.deadlineMs ?? options.deadlineMs;
      if (rounds) {
        return payGrpcTeeStream(request, {
          stub, round: (resource) => rounds.round(resource), charges, errors,
          limits: { deadline: deadlineMs ? Date.now() + deadlineMs : undefined, signal: opts.signal },
        });
      }
      let received = 0;
      // A failure with no Veil code after events began is the connection breaking: the stream was cut, not refused.
      const streamErrors = {
        ...errors,
        fromStatus: (err: grpc.ServiceError) => (received > 0 && err.code !== grpc.status.DEADLINE_EXCEEDED && !err.metadata?.get('veil-error-code').length
          ? new TeeError('tee_stream_truncated', 'the gateway connection broke before the stream\'s signed end event', { grpc: err.code }, { cause: err })
          : errors.fromStatus(err)),
      };
      const events = callServerStream<TeeStreamEvent>(stub, 'InferStream', routed(request), { deadline: deadlineMs ? Date.now() + deadlineMs : undefined, signal: opts.signal }, streamErrors);
      return (async function* () {
        for await (const event of events) {
          received++;
          yield event;
        }
      })();
    },
    close: () => {
      stub.close();
      models?.close();
    },
  };
}
