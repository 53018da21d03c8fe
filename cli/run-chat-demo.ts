import type * as grpc from '@grpc/grpc-js';
import type { ChannelPayer } from '../client';
import { connectTeeModel, type TeeModelClient, type TeeStreamReceipt } from '../client/tee';
import type { Progress } from './progress';
import { DEMO_POLICY } from './run-tee-demo';

export type ChatDemoReport = {
  mode: 'chat';
  model: string;
  target: string;
  nodeId: string;
  evidenceVerdict: 'valid';
  platform: string;
  simulated: boolean;
  measurement: string;
  signingAddress: string;
  prompt: string;
  completion: string;
  finishReason: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  /** The stream's receipt (EIP-191 over the sealed request and the hash of every sealed event) verified against the attested signer. */
  receipt: { text: string; signature: string; events: number } | null;
  timeToFirstTokenMs: number;
  totalMs: number;
};

export type RunChatDemoParameters = {
  target: string;
  apiKey?: string;
  credentials?: grpc.ChannelCredentials;
  /** Pays a charging gateway (issue #11): `veil demo` passes its dev payer (connectDemoPayer). */
  payer?: ChannelPayer;
  modelId: string;
  prompt: string;
  maxTokens: number;
  /** Called with each text delta as it arrives (the CLI prints them). */
  onDelta?: (text: string) => void;
  progress?: Progress;
};

type Chunk = { choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>; usage?: ChatDemoReport['usage'] };

/**
 * The demo behind `veil demo --mode chat`: attests the gateway's node for a chat model on this machine, seals one chat
 * request to it, streams the reply (every event authenticated as it arrives) and verifies the stream's signed receipt.
 */
export async function runChatDemo(params: RunChatDemoParameters): Promise<ChatDemoReport> {
  const { target, modelId, progress } = params;
  progress?.step('attesting a TEE node through the gateway');
  let model: TeeModelClient | undefined;
  try {
    // SIMULATED nodes of any gateway, their verifier key unpinned: self-signed evidence, accepted knowingly (the demo says so).
    model = await connectTeeModel({
      gateway: target, apiKey: params.apiKey, credentials: params.credentials, payer: params.payer, modelId, policy: DEMO_POLICY, allowSimulated: true, roots: { simulated: 'self-signed' },
    });
    progress?.done(`${model.nodeId} (${model.simulated ? 'SIMULATED' : model.platform})`);
    let receipt: TeeStreamReceipt | undefined;
    let completion = '';
    let finishReason: string | null = null;
    let usage: ChatDemoReport['usage'] = null;
    let firstMs: number | undefined;
    const started = performance.now();
    const request = { model: modelId, messages: [{ role: 'user', content: params.prompt }], max_tokens: params.maxTokens, temperature: 0, stream_options: { include_usage: true } };
    for await (const raw of model.stream(request, { onReceipt: (r) => (receipt = r) })) {
      const chunk = raw as Chunk;
      const delta = chunk.choices?.[0]?.delta?.content ?? '';
      if (delta) {
        firstMs ??= performance.now() - started;
        completion += delta;
        params.onDelta?.(delta);
      }
      finishReason = chunk.choices?.[0]?.finish_reason ?? finishReason;
      if (chunk.usage) usage = chunk.usage;
    }
    const totalMs = performance.now() - started;
    const verified = receipt as TeeStreamReceipt | undefined;
    return {
      mode: 'chat', model: modelId, target, nodeId: model.nodeId, evidenceVerdict: 'valid', platform: model.platform, simulated: model.simulated,
      measurement: model.measurement, signingAddress: model.signingAddress, prompt: params.prompt, completion, finishReason, usage,
      receipt: verified ? { text: verified.text, signature: verified.signature, events: verified.count } : null,
      timeToFirstTokenMs: Math.round((firstMs ?? totalMs) * 100) / 100, totalMs: Math.round(totalMs * 100) / 100,
    };
  } finally {
    model?.close();
  }
}
