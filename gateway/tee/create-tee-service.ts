import type * as grpc from '@grpc/grpc-js';
import { withSpan } from '../with-span';
import type { GetRoutedTeeEvidenceRequest, GetRoutedTeeEvidenceResponse, ListTeeNodesResponse, RoutedTeeInferRequest, TeeInferResponse, TeeStreamEvent } from '../../proto';
import { callerKey } from '../grpc/call-context';
import { handleServerStream, handleUnary } from '../grpc/handle-call';
import type { Logger } from '../logger';
import { chargeCall, teeActualUsage, teeCeilingUsage, type GatewayPayments } from '../payments';
import type { TeeRouter } from './create-tee-router';


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
        const facts = router.models().find((m) => m.id === request.modelId);
        // Paid (issue #11): admitted before the relay, charged what the node signed it used, never above the ceiling.
        const response = await chargeCall(payments, context, {
          resource: `tee:${request.modelId}`, modelId: request.modelId, ceilingUsage: teeCeilingUsage(facts, request.sealedRequest?.byteLength ?? 0),
        }, async () => {
          const value = await router.infer(
            { nodeId: request.nodeId, modelId: request.modelId, sealedRequest: request.sealedRequest },
            { signal: context.signal, deadline: context.deadline },
          );
          return { value, usage: teeActualUsage(value.usage) };
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
      relayStream(router, logger, request, context), { scope: (request) => ({ mode: 'tee', model: request.modelId }) }),

    ListNodes: handleUnary<unknown, ListTeeNodesResponse>('Tee.ListNodes', logger, async () => ({
      nodes: router.nodes().map(({ simulated: _simulated, ...status }) => status),
    }), { scope: () => ({ mode: 'tee' }) }),
  };
}

/** Relays a node's sealed event stream, logging only what the relay sees: model, node, event count, sizes, timing. */
async function* relayStream(router: TeeRouter, logger: Logger, request: RoutedTeeInferRequest, context: { requestId: string; signal: AbortSignal; deadline: number }): AsyncGenerator<TeeStreamEvent> {
  const started = performance.now();
  let events = 0;
  let bytes = 0;
  for await (const event of router.inferStream({ nodeId: request.nodeId, modelId: request.modelId, sealedRequest: request.sealedRequest }, { signal: context.signal, deadline: context.deadline })) {
    events++;
    bytes += event.sealedEvent.byteLength;
    yield event;
  }
  logger.debug('tee stream relayed', {
    requestId: context.requestId, model: request.modelId, node: request.nodeId, requestBytes: request.sealedRequest?.byteLength ?? 0, events, responseBytes: bytes,
    ms: Math.round((performance.now() - started) * 1000) / 1000,
  });
}
