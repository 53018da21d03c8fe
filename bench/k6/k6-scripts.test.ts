import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

// k6 is not installable here: its modules are replaced by recorders, so the scripts' options and the requests their
// iterations make can be checked; the types they are written against are checked by tsc with @types/k6.
const calls: { kind: string; args: unknown[] }[] = [];
const record = (kind: string) => (...args: unknown[]) => {
  calls.push({ kind, args });
  return kind === 'http.post' ? { status: 200, json: () => ({ choices: [{ message: { content: 'x' } }], usage: { completion_tokens: 3 } }) } : kind === 'grpc.invoke' ? { status: 0, message: { sealedResponse: 'AA==', evalMicros: '5' } } : undefined;
};
jest.mock('k6', () => ({ __esModule: true, check: record('check') }), { virtual: true });
jest.mock('k6/http', () => ({ __esModule: true, default: { post: record('http.post') } }), { virtual: true });
jest.mock('k6/metrics', () => ({ __esModule: true, Trend: class { add = record('metric') }, Counter: class { add = record('metric') } }), { virtual: true });
jest.mock('k6/execution', () => ({ __esModule: true, default: { scenario: { iterationInTest: 0 } } }), { virtual: true });
jest.mock('k6/net/grpc', () => ({
  __esModule: true,
  default: { StatusOK: 0, Client: class { load = record('grpc.load'); connect = record('grpc.connect'); invoke = record('grpc.invoke'); close = record('grpc.close') } },
}), { virtual: true });

const DIR = __dirname;
const PROTO_DIR = path.resolve(DIR, '../../proto');
type Script = { options: { scenarios: Record<string, { executor: string; rate: number; duration: string }>; thresholds: Record<string, string[]> }; default: () => void };

function loadScript(file: string, env: Record<string, string>, files: Record<string, string> = {}): Script {
  Object.assign(globalThis, { __ENV: env, open: (f: string) => files[f] ?? fs.readFileSync(f, 'utf8') });
  let script: Script | undefined;
  jest.isolateModules(() => {
    script = require(path.join(DIR, file)) as Script;
  });
  return script!;
}

/** Field names of a proto message, as the k6 gRPC client (protojson, original names) sends them. */
function fieldsOf(file: string, message: string): string[] {
  const def = protoLoader.loadSync(file, { includeDirs: [PROTO_DIR], keepCase: true });
  return ((def[message] as { type: { field: { name: string }[] } }).type.field).map((f) => f.name);
}

beforeEach(() => {
  calls.length = 0;
});

describe('bench/k6', () => {
  test('the scripts typecheck against @types/k6 (bench/k6/tsconfig.json)', () => {
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', path.join(DIR, 'tsconfig.json')], { encoding: 'utf8' });
    expect({ status: tsc.status, out: tsc.stdout }).toEqual({ status: 0, out: '' });
    const listed = fs.readdirSync(DIR).filter((f) => f.endsWith('.k6.ts')).sort();
    expect(listed).toEqual(['chat-http.k6.ts', 'fhe-grpc.k6.ts', 'tee-grpc.k6.ts']);
  }, 120_000);

  test('chat: an arrival-rate scenario with thresholds, posting an OpenAI chat completion to the proxy', () => {
    const script = loadScript('chat-http.k6.ts', { RATE: '7', DURATION: '30s' });
    expect(script.options.scenarios.chat).toMatchObject({ executor: 'constant-arrival-rate', rate: 7, duration: '30s' });
    expect(Object.keys(script.options.thresholds)).toEqual(expect.arrayContaining(['http_req_failed', 'http_req_duration', 'dropped_iterations']));
    script.default();
    const post = calls.find((c) => c.kind === 'http.post')!;
    expect(post.args[0]).toBe('http://127.0.0.1:8787/v1/chat/completions');
    expect(JSON.parse(post.args[1] as string)).toMatchObject({ model: 'toy-chat-kjv', messages: [{ role: 'user' }] });
  });

  test('FHE: Predict under the fixture\'s session with its ciphertexts; the fields exist in fhe.proto', () => {
    const fixture = { sessionId: 's-1', modelId: 'breast-cancer-lr', variant: 'blocks', groups: [{ ciphertexts: ['AAEC'] }] };
    const script = loadScript('fhe-grpc.k6.ts', { FIXTURE: 'fhe.json' }, { 'fhe.json': JSON.stringify(fixture) });
    expect(script.options.scenarios.predict!.executor).toBe('constant-arrival-rate');
    expect(script.options.thresholds.grpc_req_duration).toBeDefined();
    const load = calls.find((c) => c.kind === 'grpc.load')!;
    expect(fs.existsSync(path.resolve(DIR, (load.args[0] as string[])[0]!, load.args[1] as string))).toBe(true);
    script.default();
    const invoke = calls.find((c) => c.kind === 'grpc.invoke')!;
    expect(invoke.args.slice(0, 2)).toEqual(['veil.v1.Fhe/Predict', { session_id: 's-1', groups: fixture.groups }]);
    expect(fieldsOf('veil/v1/fhe.proto', 'veil.v1.PredictRequest')).toEqual(Object.keys(invoke.args[1] as object));
    expect(fieldsOf('veil/v1/fhe.proto', 'veil.v1.CiphertextGroup')).toEqual(['ciphertexts']);
  });

  test('TEE: each iteration sends its own single-use sealed request to the fixture\'s node; the fields exist in tee.proto', () => {
    const fixture = { modelId: 'breast-cancer-lr', nodeId: 'local', sealedRequests: ['AQID'] };
    const script = loadScript('tee-grpc.k6.ts', {}, { '/tmp/veil-tee.json': JSON.stringify(fixture) });
    expect(script.options.scenarios.infer!.executor).toBe('constant-arrival-rate');
    expect(script.options.thresholds.veil_tee_fixture_exhausted).toEqual(['count<1']);
    script.default();
    const invoke = calls.find((c) => c.kind === 'grpc.invoke')!;
    expect(invoke.args.slice(0, 2)).toEqual(['veil.v1.Tee/Infer', { node_id: 'local', model_id: 'breast-cancer-lr', sealed_request: 'AQID' }]);
    expect(fieldsOf('veil/v1/tee.proto', 'veil.v1.RoutedTeeInferRequest')).toEqual(Object.keys(invoke.args[1] as object));
  });

  test('error: a malformed RATE is refused by name instead of running a different load', () => {
    expect(() => loadScript('chat-http.k6.ts', { RATE: 'fast' })).toThrow('RATE must be a positive integer, got "fast"');
  });
});
