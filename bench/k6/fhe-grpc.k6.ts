/**
 * The gRPC FHE path at a constant arrival rate: veil.v1.Fhe/Predict with real CKKS ciphertexts. k6 cannot run
 * node-seal, so the session (evaluation keys uploaded) and one encrypted batch are prepared by the SDK first:
 *
 *   node bin/run-ts.cjs bench/k6/make-k6-fixture.ts --mode fhe --target 127.0.0.1:50051 --out /tmp/veil-fhe.json
 *   k6 run -e TARGET=127.0.0.1:50051 -e FIXTURE=/tmp/veil-fhe.json -e RATE=10 bench/k6/fhe-grpc.k6.ts
 *
 * Every call evaluates the same ciphertexts under the same session: the gateway's work per call is the same as for
 * fresh ones (it cannot tell), only the client's encryption cost is left out.
 */
import grpc from 'k6/net/grpc';
import { check } from 'k6';
import { Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { arrivalRate } from './k6-options';

type FheFixture = { sessionId: string; modelId: string; variant: string; groups: { ciphertexts: string[] }[] };

const TARGET = __ENV.TARGET || '127.0.0.1:50051';
const fixture = JSON.parse(open(__ENV.FIXTURE || '/tmp/veil-fhe.json')) as FheFixture;
const client = new grpc.Client();
client.load([__ENV.PROTO_DIR || '../../proto'], 'veil/v1/fhe.proto');
const evalMicros = new Trend('veil_fhe_eval_micros');

export const options: Options = {
  scenarios: { predict: arrivalRate(__ENV, 10) },
  thresholds: {
    grpc_req_duration: ['p(99)<2000', 'p(50)<500'],
    checks: ['rate>0.99'],
    dropped_iterations: ['count<1'],
  },
};

let connected = false;

export default function predict(): void {
  if (!connected) {
    client.connect(TARGET, { plaintext: __ENV.TLS !== '1', timeout: '10s' });
    connected = true;
  }
  const metadata: Record<string, string> = __ENV.API_KEY ? { authorization: `Bearer ${__ENV.API_KEY}` } : {};
  // protojson: bytes fields travel as base64, which is how the fixture stores them.
  const res = client.invoke('veil.v1.Fhe/Predict', { session_id: fixture.sessionId, groups: fixture.groups }, { metadata, timeout: '30s' });
  check(res, { 'status OK': (r) => r !== null && r.status === grpc.StatusOK });
  const message = res?.message as { evalMicros?: string } | null;
  if (message?.evalMicros !== undefined) evalMicros.add(Number(message.evalMicros));
}

export function teardown(): void {
  client.close();
}
