import type * as grpc from '@grpc/grpc-js';
import { withSpan } from '../with-span';
import type {
  GetRoutedTeeEvidenceRequest, GetRoutedTeeEvidenceResponse, ListTeeNodesResponse, RoutedTeeInferRequest, TeeInferResponse, TeePaidStreamMessage, TeeStreamClientMessage, TeeStreamEvent,
} from '../../proto';
import { callerKey } from '../grpc/call-context';
import { handleBidiStream, handleServerStream, handleUnary } from '../grpc/handle-call';
import type { Logger } from '../logger';
import { VeilError } from '../errors';
import type { CallContext } from '../grpc/call-context';
import { chargeCall, createStreamCredit, teeActualUsage, teeCeilingUsage, teeSignedUsage, type GatewayPayments } from '../payments';
import type { TeeRouter } from './create-tee-router';
import { meterTeeEvents, type RelayTally } from './meter-tee-events';
import { relayPaidTeeStream } from './relay-paid-tee-stream';


/**
 * veil.v1.Tee on the gateway: evidence of a routed node, relay of sealed bytes, node list. Logs and spans carry
 * routing metadata only (model, node, sizes, timing); the sealed bytes are forwarded untouched and never opened.
 */
export function createTeeService(router: TeeRouter, logger: Logger, payments?: GatewayPayments): grpc.UntypedServiceImplementation {
  return {
    GetEvidence: handleUnary<GetRoutedTeeEvidenceRequest, GetRoutedTeeEvidenceResponse>('Tee.GetEvidence', logger, async (request, context) => {
      const routed = await router.getEvidence(
        { modelId: request.modelId, nonce: request.nonce ?? new Uint8Array(0), excludeNodeIds: request.excludeNodeIds ?? [] },
        { signal: context.signal, deadline: context.deadline, caller: callerKey(context) },
      );
      logger.debug('tee evidence routed', { requestId: context.requestId, model: request.modelId, node: routed.nodeId, excluded: request.excludeNodeIds?.length ?? 0 });
      return routed;
    }, { scope: (request) => ({ mode: 'tee', model: request.modelId }) }),

    Infer: handleUnary<RoutedTeeInferRequest, TeeInferResponse>('Tee.Infer', logger, (request, context) =>
      withSpan('veil.tee.relay', async (span) => {
        span.setAttributes({ 'veil.model': request.modelId, 'veil.tee.node': request.nodeId, 'veil.request_bytes': request.sealedRequest?.byteLength ?? 0 });
        const started = performance.now();
        const facts = payments ? router.models().find((m) => m.id === request.modelId) : undefined; // only a billed call needs it
        // Paid (issue #11): admitted before the relay, charged what the node signed it used, never above the ceiling.
        const response = await chargeCall(payments, context, {
          resource: `tee:${request.modelId}`, modelId: request.modelId, ceilingUsage: teeCeilingUsage(facts, request.sealedRequest?.byteLength ?? 0),
        }, async () => {
          const value = await router.infer(
            { nodeId: request.nodeId, modelId: request.modelId, sealedRequest: request.sealedRequest },
            { signal: context.signal, deadline: context.deadline },
          );
          return { value, usage: teeActualUsage(value.usage), signed: teeSignedUsage(value.usage, 0) };
        });
        span.setAttribute('veil.response_bytes', response.sealedResponse.byteLength);
        logger.debug('tee relayed', {
          requestId: context.requestId, model: request.modelId, node: request.nodeId, requestBytes: request.sealedRequest.byteLength,
          responseBytes: response.sealedResponse.byteLength, nodeMs: response.nodeMicros / 1000, ms: Math.round((performance.now() - started) * 1000) / 1000,
        });
        return response;
      }),
      { scope: (request) => ({ mode: 'tee', model: request.modelId }) },
    ),

    InferStream: handleServerStream<RoutedTeeInferRequest, TeeStreamEvent>('Tee.InferStream', logger, (request, context) =>
      relayStream(router, logger, request, context, payments), { scope: (request) => ({ mode: 'tee', model: request.modelId }) }),

    InferStreamPaid: handleBidiStream<TeeStreamClientMessage, TeePaidStreamMessage>('Tee.InferStreamPaid', logger, (messages, context, send) =>
      relayPaidTeeStream(router, logger, payments, messages, context, send), { scope: (message) => ({ mode: 'tee', model: message.request?.modelId }) }),

    ListNodes: handleUnary<unknown, ListTeeNodesResponse>('Tee.ListNodes', logger, async () => ({
      nodes: router.nodes().map(({ simulated: _simulated, ...status }) => status),
    }), { scope: () => ({ mode: 'tee' }) }),
  };
}

/**
 * InferStream's account. It is server-streaming, so a top-up cannot arrive in it: the voucher pays the whole context
 * window up front (the unary ceiling) and the stream is charged what it delivered, its receipt in the trailer.
 * InferStreamPaid (relay-paid-tee-stream) and HTTP streams run on a credit window instead.
 */
function grpcStreamCredit(payments: GatewayPayments, router: TeeRouter, request: RoutedTeeInferRequest, context: CallContext) {
  const facts = router.models().find((m) => m.id === request.modelId);
  const ceiling = teeCeilingUsage(facts, request.sealedRequest?.byteLength ?? 0);
  return createStreamCredit({
    payments, context, resource: `tee:${request.modelId}`, modelId: request.modelId, requestId: `req:${context.requestId}`,
    firstWindow: ceiling, windowTokens: ceiling.outputTokens ?? 0, pauseMs: 0, signal: context.signal,
    onPaymentRequired: async () => {
      throw new VeilError('payment_required', 'the stream used more than its whole context window\'s ceiling');
    },
    onSettled: async (response) => {
      context.payment.response = response;
    },
  });
}

/** Relays a node's sealed event stream, logging only what the relay sees: model, node, event count, sizes, timing. */
async function* relayStream(router: TeeRouter, logger: Logger, request: RoutedTeeInferRequest, context: CallContext, payments: GatewayPayments | undefined): AsyncGenerator<TeeStreamEvent> {
  const started = performance.now();
  const tally: RelayTally = { events: 0, bytes: 0 };
  const credit = payments ? grpcStreamCredit(payments, router, request, context) : undefined;
  // Unpaid: "payment required" before the node sees the request, as for every call.
  await credit?.open(context.payment.signature);
  try {
    const source = router.inferStream({ nodeId: request.nodeId, modelId: request.modelId, sealedRequest: request.sealedRequest }, { signal: context.signal, deadline: context.deadline });
    yield* meterTeeEvents(source, credit, tally);
  } finally {
    // Done, failed or abandoned: charged what was delivered.
    await credit?.finish();
  }
  logger.debug('tee stream relayed', {
    requestId: context.requestId, model: request.modelId, node: request.nodeId, requestBytes: request.sealedRequest?.byteLength ?? 0, events: tally.events, responseBytes: tally.bytes,
    ms: Math.round((performance.now() - started) * 1000) / 1000,
  });
}
