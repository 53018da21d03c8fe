/**
 * FHE over HTTP against a real worker pool with real client crypto (fhe/: keys, encryption, decryption): the spec, a
 * streamed key upload larger than the app's body limit, predictions in both forms (byte-identical answers), and
 * every refusal as an OpenAI error object with x-request-id — truncated and mis-sized uploads, oversized and
 * malformed bodies, bad ciphertexts, unknown and foreign sessions, and an upload whose client goes away.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import {
  createCkksRuntime, createFheClientKeys, loadSeal, logitsModel, packInputs, unpackOutputs,
  type CkksRuntime, type FheClientKeys, type FheModelSpec,
} from '../../fhe';
import { BUNDLED_MODELS, loadDataset, runOnnxModel } from '../../models';
import { readOnnxModel } from '../../onnx';
import { decodeCiphertextGroups, encodeCiphertextGroups } from '../../proto';
import { startFheHttpStack, type FheHttpStack } from '../../test/support/start-fhe-http-stack';

const MODEL = 'breast-cancer-lr';
const BODY_LIMIT = 64 * 1024; // the app's bodyLimit: key uploads are far larger and must not be capped by it
const MAX_PREDICT = 512 * 1024;

let stack: FheHttpStack;
let spec: FheModelSpec;
let specSha: string;
let runtime: CkksRuntime;
let keys: FheClientKeys;
let galois: Uint8Array;

type OpenAIError = { error: { message: string; type: string; param: string | null; code: string } };

beforeAll(async () => {
  stack = await startFheHttpStack({ bodyLimit: BODY_LIMIT, maxPredictBytes: MAX_PREDICT, fhe: { maxConcurrentUploads: 2, maxUploadsPerCaller: 2 } });
  const res = await fetch(`${stack.baseUrl}/v1/fhe/models/${MODEL}/spec?variant=blocks`);
  specSha = res.headers.get('x-veil-spec-sha256')!;
  spec = JSON.parse(await res.text()) as FheModelSpec;
  runtime = createCkksRuntime(await loadSeal(), spec.params);
  keys = createFheClientKeys(runtime, spec);
  galois = keys.evaluationKeys().galoisKeys!;
});

afterAll(async () => {
  keys?.delete();
  runtime?.delete();
  await stack?.close();
});

const uploadHeaders = (extra: Record<string, string> = {}): Record<string, string> => ({
  'content-type': 'application/octet-stream', 'x-veil-model': MODEL, 'x-veil-fhe-variant': 'blocks', 'x-veil-spec-sha256': specSha,
  'x-veil-galois-keys-bytes': String(galois.byteLength), 'x-veil-relin-keys-bytes': '0', ...extra,
});

async function createSession(principal?: string): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/v1/fhe/sessions`, {
    method: 'POST', headers: uploadHeaders(principal ? { 'x-test-principal': principal } : {}), body: new Blob([galois as Uint8Array<ArrayBuffer>]),
  });
  expect(res.status).toBe(200);
  const body = await res.json() as { id: string; bytes_received: number; ttl_seconds: number; variant: string };
  expect(body).toMatchObject({ object: 'fhe.session', model: MODEL, variant: 'blocks', bytes_received: galois.byteLength, ttl_seconds: 60 });
  return body.id;
}

/** Expects an OpenAI error object with x-request-id; returns it. */
async function expectError(res: Response, status: number, code: string, param?: string | null): Promise<OpenAIError['error']> {
  const body = await res.json() as OpenAIError;
  expect({ status: res.status, code: body.error.code }).toEqual({ status, code });
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  if (param !== undefined) expect(body.error.param).toBe(param);
  expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  return body.error;
}

const predict = (session: string, body: RequestInit['body'], headers: Record<string, string>, principal?: string) =>
  fetch(`${stack.baseUrl}/v1/fhe/sessions/${session}/predict`, {
    method: 'POST', body, headers: { ...headers, ...(principal ? { 'x-test-principal': principal } : {}) }, duplex: 'half',
  } as RequestInit);
const binary = { 'content-type': 'application/octet-stream', accept: 'application/octet-stream' };
const json = { 'content-type': 'application/json', accept: 'application/json' };
const asJson = (groups: Uint8Array[][]) => JSON.stringify({ groups: groups.map((g) => ({ ciphertexts: g.map((c) => Buffer.from(c).toString('base64')) })) });

describe('FHE over HTTP', () => {
  test('the spec is served byte for byte as hashed; unknown models and variants are refused naming the field', async () => {
    const res = await fetch(`${stack.baseUrl}/v1/fhe/models/${MODEL}/spec`);
    const text = await res.text();
    expect(res.headers.get('x-veil-fhe-variant')).toBe('blocks');
    expect(createHash('sha256').update(text).digest('hex')).toBe(res.headers.get('x-veil-spec-sha256'));
    expect(stack.models.get(MODEL)!.primary.specJson).toBe(text);
    const list = await (await fetch(`${stack.baseUrl}/v1/fhe/models`)).json() as { data: { id: string; variants: string[] }[] };
    expect(list.data).toEqual([expect.objectContaining({ id: MODEL, variants: ['blocks', 'feature-major'], input_size: 30 })]);
    await expectError(await fetch(`${stack.baseUrl}/v1/fhe/models/nope/spec`), 404, 'model_not_found', 'model');
    const err = await expectError(await fetch(`${stack.baseUrl}/v1/fhe/models/${MODEL}/spec?variant=turbo`), 400, 'invalid_argument', 'variant');
    expect(err.message).toMatch(/served: blocks/);
    await expectError(await fetch(`${stack.baseUrl}/v1/fhe/models/${MODEL}/spec?variant=blocks&variant=blocks`), 400, 'invalid_argument', 'variant');
  });

  test('keys far larger than the body limit upload; encrypted predictions match plaintext, and both forms answer the same bytes', async () => {
    expect(galois.byteLength).toBeGreaterThan(10 * BODY_LIMIT);
    const session = await createSession();
    const { test: split } = loadDataset('breast-cancer');
    const samples = split.features.slice(0, 20);
    const groups = packInputs(spec, samples).map((g) => g.map((slots) => keys.encrypt(slots)));

    const viaBinary = await predict(session, encodeCiphertextGroups(groups.map((ciphertexts) => ({ ciphertexts }))) as Uint8Array<ArrayBuffer>, binary);
    expect(viaBinary.status).toBe(200);
    expect(viaBinary.headers.get('content-type')).toBe('application/octet-stream');
    expect(Number(viaBinary.headers.get('x-veil-eval-micros'))).toBeGreaterThan(0);
    const binaryOut = decodeCiphertextGroups(new Uint8Array(await viaBinary.arrayBuffer()));

    const viaJson = await predict(session, asJson(groups), json);
    expect(viaJson.status).toBe(200);
    const jsonBody = await viaJson.json() as { object: string; groups: { ciphertexts: string[] }[]; eval_micros: number };
    expect(jsonBody.object).toBe('fhe.prediction');
    const jsonOut = jsonBody.groups.map((g) => g.ciphertexts.map((c) => new Uint8Array(Buffer.from(c, 'base64'))));
    // Evaluation is deterministic: the same ciphertexts give the same answer bytes whichever form carried them.
    expect(jsonOut).toEqual(binaryOut.map((g) => g.ciphertexts.map((c) => new Uint8Array(c))));

    // Accept decides the answer's form: JSON in, binary out.
    const mixed = await predict(session, asJson(groups), { 'content-type': 'application/json', accept: 'application/json;q=0.5, application/octet-stream' });
    expect(mixed.headers.get('content-type')).toBe('application/octet-stream');
    expect(decodeCiphertextGroups(new Uint8Array(await mixed.arrayBuffer()))).toHaveLength(groups.length);

    const onnx = logitsModel(fs.readFileSync(BUNDLED_MODELS[MODEL].file));
    const plain = await runOnnxModel(onnx, 'x', readOnnxModel(onnx).graph.outputs[0]!.name, samples);
    const logits = binaryOut.flatMap((g, i) => unpackOutputs(spec, g.ciphertexts.map((c) => keys.decrypt(c)), Math.min(spec.batchCapacity, samples.length - i * spec.batchCapacity)));
    expect(logits).toHaveLength(samples.length);
    logits.forEach((l, i) => expect(Math.abs(l[0]! - plain[i]![0]!)).toBeLessThanOrEqual(1e-3));

    const closed = await fetch(`${stack.baseUrl}/v1/fhe/sessions/${session}`, { method: 'DELETE' });
    expect(await closed.json()).toEqual({ id: session, object: 'fhe.session', deleted: true });
    await expectError(await predict(session, asJson(groups), json), 404, 'session_not_found');
  });

  test('error: a truncated upload (the body ends early) is refused naming the body, with the byte counts', async () => {
    const res = await fetch(`${stack.baseUrl}/v1/fhe/sessions`, {
      method: 'POST', headers: uploadHeaders(), duplex: 'half',
      body: new ReadableStream({ start(c) { c.enqueue(galois.subarray(0, 1000)); c.close(); } }), // chunked: no content-length
    } as RequestInit);
    const err = await expectError(res, 400, 'invalid_argument', 'body');
    expect(err.message).toContain(`galois 1000/${galois.byteLength}`);
    // The other way round: a chunked body longer than declared is refused at the first surplus byte.
    const long = await fetch(`${stack.baseUrl}/v1/fhe/sessions`, {
      method: 'POST', headers: uploadHeaders(), duplex: 'half',
      body: new ReadableStream({ start(c) { c.enqueue(galois); c.enqueue(new Uint8Array(10)); c.close(); } }),
    } as RequestInit);
    expect((await expectError(long, 400, 'invalid_argument', 'body')).message).toMatch(/more galois key bytes than the header declared/);
  });

  test('error: a size header that is not the spec\'s exact size, a content-length that disagrees, and a non-number', async () => {
    const wrong = await fetch(`${stack.baseUrl}/v1/fhe/sessions`, {
      method: 'POST', headers: uploadHeaders({ 'x-veil-galois-keys-bytes': String(galois.byteLength - 1) }), body: new Blob([galois.subarray(1) as Uint8Array<ArrayBuffer>]),
    });
    expect((await expectError(wrong, 400, 'invalid_keys', 'x-veil-galois-keys-bytes')).message).toMatch(new RegExp(`exactly ${galois.byteLength} bytes`));
    const length = await fetch(`${stack.baseUrl}/v1/fhe/sessions`, { method: 'POST', headers: uploadHeaders(), body: new Blob([galois.subarray(1) as Uint8Array<ArrayBuffer>]) });
    await expectError(length, 400, 'invalid_argument', 'content-length');
    const nan = await fetch(`${stack.baseUrl}/v1/fhe/sessions`, { method: 'POST', headers: uploadHeaders({ 'x-veil-galois-keys-bytes': '1e6' }), body: 'x' });
    await expectError(nan, 400, 'invalid_argument', 'x-veil-galois-keys-bytes');
    const json = await fetch(`${stack.baseUrl}/v1/fhe/sessions`, { method: 'POST', headers: uploadHeaders({ 'content-type': 'application/json' }), body: '{}' });
    await expectError(json, 400, 'invalid_argument', 'content-type');
    await expectError(await fetch(`${stack.baseUrl}/v1/fhe/sessions`, { method: 'POST', headers: uploadHeaders({ 'x-veil-model': 'nope' }), body: new Blob([galois as Uint8Array<ArrayBuffer>]) }), 404, 'model_not_found', 'x-veil-model');
  });

  test('error: an upload declaring more than fhe.maxSessionKeyBytes is refused as message_too_large before a byte is read', async () => {
    const size = 600 * 1024 * 1024; // the stack's maxSessionKeyBytes is 512 MiB
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request(`${stack.baseUrl}/v1/fhe/sessions`, {
        method: 'POST', headers: { ...uploadHeaders({ 'x-veil-galois-keys-bytes': String(size) }), 'content-length': size },
      }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      request.on('error', reject);
      request.flushHeaders(); // headers only: the refusal must not wait for the body
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'message_too_large', param: 'x-veil-galois-keys-bytes, x-veil-relin-keys-bytes' } });
  });

  test('error: an oversized predict body is refused as message_too_large, declared or chunked', async () => {
    const session = await createSession();
    await expectError(await predict(session, new Uint8Array(MAX_PREDICT + 1), binary), 413, 'message_too_large', 'body');
    const chunked = await predict(session, new ReadableStream({
      start(c) { for (let i = 0; i < 9; i++) c.enqueue(new Uint8Array(MAX_PREDICT / 8)); c.close(); },
    }), binary);
    await expectError(chunked, 413, 'message_too_large', 'body');
  });

  test('error: bad ciphertexts, bad framing, bad base64 and bad media types, each naming the field', async () => {
    const session = await createSession();
    const fake = [[new Uint8Array(4096).fill(7)]];
    await expectError(await predict(session, encodeCiphertextGroups(fake.map((ciphertexts) => ({ ciphertexts }))) as Uint8Array<ArrayBuffer>, binary), 400, 'invalid_ciphertext');
    await expectError(await predict(session, asJson(fake), json), 400, 'invalid_ciphertext');
    await expectError(await predict(session, new Uint8Array([1, 2, 3]), binary), 400, 'invalid_argument', 'body');
    await expectError(await predict(session, JSON.stringify({ groups: [{ ciphertexts: ['not base64!'] }] }), json), 400, 'invalid_argument', 'groups[0].ciphertexts[0]');
    await expectError(await predict(session, '{"groups":', json), 400, 'invalid_argument', 'body');
    await expectError(await predict(session, asJson([[new Uint8Array(8), new Uint8Array(8)]]), json), 400, 'invalid_argument', 'groups[0]');
    await expectError(await predict(session, 'x', { 'content-type': 'text/plain' }), 400, 'invalid_argument', 'content-type');
    await expectError(await predict(session, asJson(fake), { ...json, accept: 'text/html' }), 400, 'invalid_argument', 'accept');
  });

  test('error: another principal\'s session answers session_not_found exactly as an unknown id does', async () => {
    const session = await createSession('alice');
    const groups = asJson([[new Uint8Array(8)]]);
    const unknown = await expectError(await predict('no-such-session', groups, json, 'bob'), 404, 'session_not_found');
    const foreign = await expectError(await predict(session, groups, json, 'bob'), 404, 'session_not_found');
    expect(foreign.message).toBe(unknown.message);
    await expectError(await fetch(`${stack.baseUrl}/v1/fhe/sessions/${session}`, { method: 'DELETE', headers: { 'x-test-principal': 'bob' } }), 404, 'session_not_found');
    const own = await fetch(`${stack.baseUrl}/v1/fhe/sessions/${session}`, { method: 'DELETE', headers: { 'x-test-principal': 'alice' } });
    expect(own.status).toBe(200);
  });

  test('error: the API-key scope is checked where gRPC checks it: the model for spec and upload, the mode for all', async () => {
    const session = await createSession('tee-only-victim');
    const as = (principal: string) => ({ 'x-test-principal': principal });
    for (const principal of ['tee-only', 'digits-only']) {
      await expectError(await fetch(`${stack.baseUrl}/v1/fhe/models/${MODEL}/spec`, { headers: as(principal) }), 403, 'permission_denied', principal === 'digits-only' ? 'model' : null);
      await expectError(await fetch(`${stack.baseUrl}/v1/fhe/sessions`, { method: 'POST', headers: { ...uploadHeaders(), ...as(principal) }, body: new Blob([galois as Uint8Array<ArrayBuffer>]) }), 403, 'permission_denied', principal === 'digits-only' ? 'x-veil-model' : null);
    }
    await expectError(await predict(session, asJson([[new Uint8Array(8)]]), json, 'tee-only'), 403, 'permission_denied');
    await expectError(await fetch(`${stack.baseUrl}/v1/fhe/sessions/${session}`, { method: 'DELETE', headers: as('tee-only') }), 403, 'permission_denied');
    // Predict is checked for the mode only (the model was checked at upload), as on gRPC: a key scoped to another
    // model reaches the session lookup, and this session is not its own.
    await expectError(await predict(session, asJson([[new Uint8Array(8)]]), json, 'digits-only'), 404, 'session_not_found');
  });

  test('error: a client that goes away mid-upload frees its upload slot at once', async () => {
    // Two slots (maxConcurrentUploads: 2): hold both with half-sent uploads, see a third refused, abort both.
    const half = (): http.ClientRequest => {
      const request = http.request(`${stack.baseUrl}/v1/fhe/sessions`, { method: 'POST', headers: { ...uploadHeaders(), 'content-length': galois.byteLength } });
      request.on('error', () => undefined);
      request.write(galois.subarray(0, galois.byteLength >> 1));
      return request;
    };
    const held = [half(), half()];
    await new Promise((r) => setTimeout(r, 300));
    await expectError(await fetch(`${stack.baseUrl}/v1/fhe/sessions`, { method: 'POST', headers: uploadHeaders(), body: new Blob([galois as Uint8Array<ArrayBuffer>]) }), 503, 'overloaded');
    for (const r of held) r.destroy();
    await new Promise((r) => setTimeout(r, 200)); // well under uploadIdleTimeoutMs (2 s): the slot was not freed by a timeout
    await createSession();
  });

  test('error: an upload that stalls is answered upload_timeout on its open connection (idle timeout 2 s)', async () => {
    const started = Date.now();
    const answer = await new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
      const request = http.request(`${stack.baseUrl}/v1/fhe/sessions`, { method: 'POST', headers: { ...uploadHeaders(), 'content-length': galois.byteLength } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
      });
      request.on('error', reject);
      request.write(galois.subarray(0, 1000)); // and then nothing
    });
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'upload_timeout' } });
    expect(answer.connection).toBe('close'); // the rest of the body is never read
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  test('still serving after every refusal above: a full upload and prediction', async () => {
    const session = await createSession();
    const groups = packInputs(spec, [loadDataset('breast-cancer').test.features[0]!]).map((g) => g.map((slots) => keys.encrypt(slots)));
    const res = await predict(session, asJson(groups), json);
    expect(res.status).toBe(200);
  });
});
