/**
 * The gRPC TEE path at a constant arrival rate: veil.v1.Tee/Infer with sealed requests, relayed by the gateway to the
 * node that attested. Sealing needs HPKE to an attested key and every request is single-use (fresh id, timestamp
 * within the node's 60 s replay window: tee/PROTOCOL.md §5), so the SDK seals RATE × seconds requests just before
 * the run and each iteration sends its own:
 *
 *   node bin/run-ts.cjs bench/k6/make-k6-fixture.ts --mode tee --target 127.0.0.1:50051 --count 400 --out /tmp/veil-tee.json \
 *     && k6 run -e TARGET=127.0.0.1:50051 -e FIXTURE=/tmp/veil-tee.json -e RATE=10 -e DURATION=40s bench/k6/tee-grpc.k6.ts
 *
 * Keep DURATION × RATE ≤ count and the whole run inside the window. Answers are sealed; k6 checks status and size
 * only (the SDK's benches verify receipts: bench/tee.ts).
 */
import grpc from 'k6/net/grpc';
import exec from 'k6/execution';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import { arrivalRate } from './k6-options';

type TeeFixture = { modelId: string; nodeId: string; sealedRequests: string[] };

const TARGET = __ENV.TARGET || '127.0.0.1:50051';
const fixture = JSON.parse(open(__ENV.FIXTURE || '/tmp/veil-tee.json')) as TeeFixture;
const client = new grpc.Client();
client.load([__ENV.PROTO_DIR || '../../proto'], 'veil/v1/tee.proto');
const exhausted = new Counter('veil_tee_fixture_exhausted');

export const options: Options = {
  scenarios: { infer: arrivalRate(__ENV, 10) },
  thresholds: {
    grpc_req_duration: ['p(99)<1000', 'p(50)<200'],
    checks: ['rate>0.99'],
    dropped_iterations: ['count<1'],
    veil_tee_fixture_exhausted: ['count<1'],
  },
};

let connected = false;

export default function infer(): void {
  const sealed = fixture.sealedRequests[exec.scenario.iterationInTest];
  if (sealed === undefined) {
    exhausted.add(1);
    return;
  }
  if (!connected) {
    client.connect(TARGET, { plaintext: __ENV.TLS !== '1', timeout: '10s' });
    connected = true;
  }
  const metadata: Record<string, string> = __ENV.API_KEY ? { authorization: `Bearer ${__ENV.API_KEY}` } : {};
  const res = client.invoke('veil.v1.Tee/Infer', { node_id: fixture.nodeId, model_id: fixture.modelId, sealed_request: sealed }, { metadata, timeout: '10s' });
  check(res, {
    'status OK': (r) => r !== null && r.status === grpc.StatusOK,
    'sealed answer': (r) => typeof (r?.message as { sealedResponse?: string } | null)?.sealedResponse === 'string',
  });
}

export function teardown(): void {
  client.close();
}
