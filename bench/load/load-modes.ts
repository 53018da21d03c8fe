/**
 * The three load modes and how each one's step is run: gRPC FHE and TEE through the SDK on the open-loop generator,
 * HTTP chat through `veil proxy` with autocannon. Each names its p99 bound: the latency a step's p99 must stay within
 * for its rate to count as sustained. The bounds sit well above what a loaded shared machine's scheduler alone adds
 * (p99 ≈ 250 ms even at 1 request/s when other jobs keep the 2 cores busy), so the search finds where queueing
 * starts — past it an open-model queue grows without end, to seconds within one step — not the scheduler's noise.
 */
import { openFheArm, openTeeArm, type GrpcGateway, type RequestArm } from './grpc-arms';
import type { LoadStepOutcome } from './load-step';
import { runAutocannonStep } from './run-autocannon-step';
import { runOpenLoop } from './run-open-loop';

export type LoadModeId = 'fhe-grpc' | 'tee-grpc' | 'chat-http';

/** What a mode runs against: the gateways and, for HTTP, one `veil proxy` per gateway. */
export type LoadStack = { gateways: readonly GrpcGateway[]; proxyUrls: readonly string[] };

export type OpenedMode = {
  /** One unloaded request, for the warm-up and the search's starting rate. */
  once(): Promise<void>;
  step(ratePerSecond: number, durationMs: number): Promise<LoadStepOutcome>;
  close(): Promise<void>;
};

export type LoadMode = {
  id: LoadModeId;
  /** What one request is, for the report. */
  request: string;
  p99BoundMs: number;
  /** autocannon rates are whole requests per second. */
  wholeRates: boolean;
  open(stack: LoadStack): Promise<OpenedMode>;
};

/** The chat request: short, greedy, not streamed, so one request is one HTTP exchange autocannon can time. */
export const CHAT_REQUEST = { model: 'toy-chat-kjv', messages: [{ role: 'user', content: 'And God said' }], max_tokens: 16, temperature: 0 } as const;

function openLoopMode(arm: RequestArm): OpenedMode {
  return {
    once: () => arm.fire(10_000),
    step: (ratePerSecond, durationMs) => runOpenLoop({ ratePerSecond, durationMs, fire: (deadlineMs) => arm.fire(deadlineMs) }),
    close: () => arm.close(),
  };
}

export const LOAD_MODES: readonly LoadMode[] = [
  {
    id: 'fhe-grpc', p99BoundMs: 1000, wholeRates: false,
    request: 'FHE breast-cancer-lr, 1 sample (blocks): encrypt → gRPC Fhe.Predict → decrypt, SDK in the bench process',
    open: async ({ gateways }) => openLoopMode(await openFheArm(gateways)),
  },
  {
    id: 'tee-grpc', p99BoundMs: 500, wholeRates: false,
    request: 'TEE breast-cancer-lr, 1 row: seal → gRPC Tee.Infer → in-process SIMULATED node → verify receipt → open, SDK in the bench process',
    open: async ({ gateways }) => openLoopMode(await openTeeArm(gateways)),
  },
  {
    id: 'chat-http', p99BoundMs: 1000, wholeRates: true,
    request: `HTTP POST /v1/chat/completions (toy-chat-kjv, max_tokens ${CHAT_REQUEST.max_tokens}, not streamed) to veil proxy → sealed → gateway HTTP → node; autocannon`,
    open: async ({ proxyUrls }) => {
      const urls = proxyUrls.map((u) => `${u}/v1/chat/completions`);
      let next = 0;
      return {
        async once() {
          const res = await fetch(urls[next++ % urls.length]!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(CHAT_REQUEST), signal: AbortSignal.timeout(30_000) });
          const body = (await res.json()) as { choices?: unknown[] };
          if (!res.ok || !body.choices?.length) throw new Error(`chat through veil proxy answered ${res.status}`);
        },
        step: (ratePerSecond, durationMs) => runAutocannonStep({ urls, ratePerSecond, durationMs, body: CHAT_REQUEST }),
        close: async () => {},
      };
    },
  },
];
