/**
 * The HTTP chat path at a constant arrival rate: an OpenAI chat completion through `veil proxy` (which attests the
 * node, seals the request, relays it through the gateway and verifies the receipt) — the endpoint an unmodified
 * OpenAI client uses. The gateway's own /v1/chat/completions takes only sealed bodies, which k6 cannot make.
 *
 *   npx veil proxy --allow-simulated --gateway http://127.0.0.1:8080 &
 *   k6 run -e BASE_URL=http://127.0.0.1:8787/v1 -e RATE=5 -e DURATION=60s bench/k6/chat-http.k6.ts
 */
import http from 'k6/http';
import { check } from 'k6';
import { Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { arrivalRate } from './k6-options';

const BASE_URL = __ENV.BASE_URL || 'http://127.0.0.1:8787/v1';
const MODEL = __ENV.MODEL || 'toy-chat-kjv';
const completionTokens = new Trend('veil_chat_completion_tokens');

export const options: Options = {
  scenarios: { chat: arrivalRate(__ENV, 5) },
  thresholds: {
    // The bound a run is judged by; override with k6's --threshold-less runs to just measure.
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(99)<5000', 'p(50)<1500'],
    checks: ['rate>0.99'],
    dropped_iterations: ['count<1'],
  },
};

type ChatCompletion = { choices?: { message?: { content?: string } }[]; usage?: { completion_tokens?: number } };

export default function chat(): void {
  const body = JSON.stringify({
    model: MODEL,
    messages: [{ role: 'user', content: 'In the beginning' }],
    max_tokens: 16,
    temperature: 0,
  });
  const res = http.post(`${BASE_URL}/chat/completions`, body, {
    headers: { 'content-type': 'application/json', authorization: `Bearer ${__ENV.API_KEY || 'unused'}` },
    tags: { name: 'chat.completions' },
  });
  const parsed = res.status === 200 ? (res.json() as ChatCompletion) : undefined;
  check(res, {
    'status 200': (r) => r.status === 200,
    'has a completion': () => typeof parsed?.choices?.[0]?.message?.content === 'string',
  });
  if (parsed?.usage?.completion_tokens !== undefined) completionTokens.add(parsed.usage.completion_tokens);
}
