/**
 * The Fhe handlers with a fake key stream and a fake worker pool (no SEAL): the upload bounds of issue #9 (exact key
 * sizes, upload slots, idle and overall timeouts, empty chunks, cancellation), eviction only after validation, keyless
 * sessions, session ownership, and closes and evictions reaching the workers.
 */
import { PassThrough } from 'node:stream';
import { evaluationKeySizes } from '../../fhe';
import type { CreateSessionRequest } from '../../proto';
import type { FhePool } from '../../workers';
import { WorkerTaskError } from '../../workers';
import { createLogger } from '../logger';
import { loadFheModels } from '../models/load-fhe-models';
import { SessionStore, type SessionStoreOptions } from '../fhe/session-store';
import type { CallContext } from './call-context';
import { MIN_KEY_CHUNK_BYTES } from '../../proto';
import { createFheHandlers, MAX_EMPTY_CHUNKS, type FheServiceOptions } from './fhe-service';

const models = loadFheModels(['breast-cancer-lr'], ['blocks', 'feature-major']);
const blocks = models.get('breast-cancer-lr')!.variants.get('blocks')!;
const galoisBytes = evaluationKeySizes(blocks.plan.spec).galoisKeys;

type FakePool = FhePool & { forgotten: number[]; loaded: number[]; refuseKeys: boolean };
function fakePool(): FakePool {
  let next = 0;
  const pool: FakePool = {
    forgotten: [], loaded: [], refuseKeys: false,
    threads: 1, idleThreads: 1, queueSize: 0, workerStarts: 1,
    newSessionKey: () => ++next,
    forgetSession: (key) => void pool.forgotten.push(key),
    async loadKeys({ session }) {
      if (pool.refuseKeys) throw new WorkerTaskError('invalid_keys', 'Galois key bytes are not SEAL keys for this model\'s CKKS parameters');
      pool.loaded.push(session);
    },
    predict: async ({ groups }) => ({ groups: groups.map((g) => g.map(() => new Uint8Array(1))), evalMicros: 1 }),
    workerStats: async () => ({ cachedSessions: 0, cachedBytes: 0 }),
    close: async () => undefined,
  };
  return pool;
}

function setup(overrides: Partial<FheServiceOptions> = {}, store: Partial<SessionStoreOptions> = {}) {
  const pool = fakePool();
  const sessions = new SessionStore({
    ttlMs: 60_000, maxBytes: 1e12, maxSessions: 100, maxSessionsPerCaller: 100, sessionCostBytes: 1024,
    onEvict: (s) => pool.forgetSession(s.key), ...store,
  });
  const options: FheServiceOptions = {
    models, sessions, pool, logger: createLogger({ level: 'silent', format: 'json' }),
    maxSessionKeyBytes: 512 * 1024 * 1024, maxGroupsPerRequest: 16, sessionTtlSeconds: 60,
    maxConcurrentUploads: 8, maxUploadsPerCaller: 8, uploadIdleTimeoutMs: 5_000, uploadTimeoutSeconds: 60,
    ...overrides,
  };
  return { pool, sessions, handlers: createFheHandlers(options) };
}

function context(principal?: string, peer = '10.0.0.1'): CallContext & { controller: AbortController } {
  const controller = new AbortController();
  return { requestId: 'r', signal: controller.signal, deadline: 0, principal, peer, payment: { signature: undefined, idempotencyKey: undefined }, dispose: () => undefined, controller };
}

const header = (variant: string, galois: number, relin = 0): CreateSessionRequest =>
  ({ header: { modelId: 'breast-cancer-lr', variant, galoisKeysBytes: galois, relinKeysBytes: relin, specSha256: '' } });
const chunk = (bytes: number): CreateSessionRequest => ({ chunk: { kind: 'KIND_GALOIS', data: new Uint8Array(bytes) } });

/** A client stream: the given messages, then (unless `open`) the half-close. */
function upload(messages: CreateSessionRequest[], open = false): PassThrough {
  const stream = new PassThrough({ objectMode: true });
  for (const m of messages) stream.write(m);
  if (!open) stream.end();
  return stream;
}

const fullUpload = () => upload([header('blocks', galoisBytes), chunk(galoisBytes - 1000), chunk(1000)]);
const codeOf = (promise: Promise<unknown>) => promise.then(() => 'ok', (e: { code?: string }) => e.code);

describe('CreateSession key upload', () => {
  test('keys of exactly the spec\'s sizes make a session', async () => {
    const { handlers, sessions, pool } = setup();
    const r = await handlers.createSession(fullUpload(), context());
    expect(r.bytesReceived).toBe(galoisBytes);
    expect(sessions.size).toBe(1);
    expect(pool.loaded).toHaveLength(1);
  });

  test.each([
    ['too few Galois bytes', header('blocks', galoisBytes - 1), 'header.galois_keys_bytes'],
    ['512 MiB', header('blocks', 512 * 1024 * 1024), 'header.galois_keys_bytes'],
    ['relin keys the model does not use', header('blocks', galoisBytes, 100), 'header.relin_keys_bytes'],
    ['Galois keys for a variant without rotations', header('feature-major', 1000), 'header.galois_keys_bytes'],
  ])('error: a header declaring %s is refused as invalid_keys naming the field, before any chunk', async (_what, first, param) => {
    const { handlers } = setup();
    const stream = upload([first], true); // no chunk ever follows: the refusal must not wait for one
    const err: unknown = await handlers.createSession(stream, context()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_keys', param });
    expect((err as Error).message).toMatch(/exactly \d+ bytes|needs no/);
  });

  test('error: beyond the concurrent-upload cap a new upload is refused as overloaded; the slot frees when one ends', async () => {
    const { handlers } = setup({ maxConcurrentUploads: 1 });
    const slow = upload([header('blocks', galoisBytes)], true);
    const pending = handlers.createSession(slow, context(undefined, '10.0.0.1'));
    expect(await codeOf(handlers.createSession(fullUpload(), context(undefined, '10.0.0.2')))).toBe('overloaded');
    slow.write(chunk(galoisBytes));
    slow.end();
    await pending;
    expect(await codeOf(handlers.createSession(fullUpload(), context(undefined, '10.0.0.2')))).toBe('ok');
  });

  test('error: one caller cannot hold more than its own share of upload slots; others still get theirs', async () => {
    const { handlers } = setup({ maxUploadsPerCaller: 1 });
    const slow = upload([header('blocks', galoisBytes)], true);
    const pending = handlers.createSession(slow, context('alice'));
    expect(await codeOf(handlers.createSession(fullUpload(), context('alice')))).toBe('overloaded');
    expect(await codeOf(handlers.createSession(fullUpload(), context('bob')))).toBe('ok');
    slow.end();
    expect(await codeOf(pending)).toBe('invalid_argument'); // ended before the declared bytes
  });

  test('error: an upload that goes quiet is refused with upload_timeout and gives back its slot', async () => {
    const { handlers } = setup({ uploadIdleTimeoutMs: 100, maxConcurrentUploads: 1 });
    const started = Date.now();
    expect(await codeOf(handlers.createSession(upload([header('blocks', galoisBytes), chunk(MIN_KEY_CHUNK_BYTES)], true), context()))).toBe('upload_timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await codeOf(handlers.createSession(fullUpload(), context()))).toBe('ok');
  });

  test('error: an upload that trickles (never idle) still ends at the overall deadline', async () => {
    const { handlers } = setup({ uploadIdleTimeoutMs: 500, uploadTimeoutSeconds: 1 });
    const stream = upload([header('blocks', galoisBytes)], true);
    const timer = setInterval(() => stream.write(chunk(MIN_KEY_CHUNK_BYTES)), 50); // 20 × 16 KiB in 1 s: far from complete
    const started = Date.now();
    try {
      expect(await codeOf(handlers.createSession(stream, context()))).toBe('upload_timeout');
    } finally {
      clearInterval(timer);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  test(`error: more than ${MAX_EMPTY_CHUNKS} empty chunks are refused`, async () => {
    const { handlers } = setup();
    const allowed = upload([header('blocks', galoisBytes), ...Array.from({ length: MAX_EMPTY_CHUNKS }, () => chunk(0)), chunk(galoisBytes)]);
    expect(await codeOf(handlers.createSession(allowed, context()))).toBe('ok');
    const flood = upload([header('blocks', galoisBytes), ...Array.from({ length: MAX_EMPTY_CHUNKS + 1 }, () => chunk(0))], true);
    const err = await handlers.createSession(flood, context()).catch((e: { code: string; param: string }) => e);
    expect(err).toMatchObject({ code: 'invalid_argument', param: 'chunk.data' });
  });

  test(`error: a key chunk under ${MIN_KEY_CHUNK_BYTES} bytes that does not complete its key is refused at the next message`, async () => {
    const { handlers } = setup();
    // 1.3 MB of Galois keys in 19-byte chunks was 70,000 messages, still being read when the fuzzer's 10 s deadline passed.
    const tiny = upload([header('blocks', galoisBytes), chunk(MIN_KEY_CHUNK_BYTES), chunk(19), chunk(19)], true); // more would follow
    const err = await handlers.createSession(tiny, context()).catch((e: { code: string; param: string; message: string }) => e);
    expect(err).toMatchObject({ code: 'invalid_argument', param: 'chunk.data', message: expect.stringContaining(`message 2: a key chunk must hold at least ${MIN_KEY_CHUNK_BYTES} bytes`) });
    // As the last message, a short chunk is a truncated upload, reported with its byte counts.
    const truncated = upload([header('blocks', galoisBytes), chunk(MIN_KEY_CHUNK_BYTES), chunk(19)]);
    const cut = await handlers.createSession(truncated, context()).catch((e: { code: string; message: string }) => e);
    expect(cut).toMatchObject({ code: 'invalid_argument', message: expect.stringContaining(`galois ${MIN_KEY_CHUNK_BYTES + 19}/${galoisBytes}`) });
    // A short chunk that completes its key is the normal last chunk.
    const last = upload([header('blocks', galoisBytes), chunk(galoisBytes - 19), chunk(19)]);
    expect(await codeOf(handlers.createSession(last, context()))).toBe('ok');
  });

  test('error: a cancelled upload stops reading at once and ends as cancelled, giving back its slot', async () => {
    const { handlers } = setup({ maxConcurrentUploads: 1 });
    const ctx = context();
    const pending = handlers.createSession(upload([header('blocks', galoisBytes), chunk(MIN_KEY_CHUNK_BYTES)], true), ctx);
    setTimeout(() => ctx.controller.abort(), 20);
    expect(await codeOf(pending)).toBe('cancelled');
    expect(await codeOf(handlers.createSession(fullUpload(), context()))).toBe('ok');
  });

  test('error: keys a worker refuses evict nobody, and no worker keeps them', async () => {
    const { handlers, sessions, pool } = setup({}, { maxSessions: 1 });
    const first = await handlers.createSession(fullUpload(), context());
    pool.refuseKeys = true;
    expect(await codeOf(handlers.createSession(fullUpload(), context()))).toBe('invalid_keys');
    expect(sessions.size).toBe(1);
    expect(sessions.use(first.sessionId, undefined).id).toBe(first.sessionId); // still there
    expect(pool.forgotten).toEqual([2]); // the refused upload's key number, not the first session's
  });

  test('a keyless session (feature-major LR) costs sessionCostBytes and is capped like any other', async () => {
    const { handlers, sessions, pool } = setup({}, { maxSessions: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await handlers.createSession(upload([header('feature-major', 0)]), context())).sessionId);
    expect(sessions.size).toBe(2);
    expect(sessions.bytes).toBe(2 * 1024);
    expect(pool.forgotten).toEqual([1]); // the evicted session reached the workers
    expect(await codeOf(handlers.predict({ sessionId: ids[0]!, groups: [{ ciphertexts: Array.from({ length: 30 }, () => new Uint8Array(1)) }] }, context())))
      .toBe('session_not_found');
  });
});

describe('session ownership and close', () => {
  const groups = [{ ciphertexts: [new Uint8Array(1)] }];

  test('another principal\'s session answers session_not_found to Predict and CloseSession, like an unknown id', async () => {
    const { handlers, sessions } = setup();
    const { sessionId } = await handlers.createSession(fullUpload(), context('alice'));
    const unknown = await handlers.predict({ sessionId: 'no-such-session', groups }, context('bob')).catch((e: Error) => e);
    const foreign = await handlers.predict({ sessionId, groups }, context('bob')).catch((e: Error) => e);
    expect(foreign).toMatchObject({ code: 'session_not_found' });
    expect((foreign as Error).message).toBe((unknown as Error).message);
    expect(await codeOf(handlers.closeSession({ sessionId }, context('bob')))).toBe('session_not_found');
    expect(await codeOf(handlers.predict({ sessionId, groups }, context(undefined)))).toBe('session_not_found');
    expect(sessions.size).toBe(1);
    expect(await codeOf(handlers.predict({ sessionId, groups }, context('alice')))).toBe('ok');
    expect(await codeOf(handlers.closeSession({ sessionId }, context('alice')))).toBe('ok');
  });

  test('CloseSession tells every worker to drop the keys', async () => {
    const { handlers, pool } = setup();
    const { sessionId } = await handlers.createSession(fullUpload(), context());
    const key = pool.loaded[0]!;
    await handlers.closeSession({ sessionId }, context());
    expect(pool.forgotten).toEqual([key]);
  });
});

describe('logs', () => {
  test('never carry a session id: while auth is off it is a bearer token', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) });
    const { handlers } = setup({ logger }, { onEvict: (st, reason) => logger.info('fhe session dropped', { session: st.key, reason }) });
    const { sessionId } = await handlers.createSession(fullUpload(), context());
    await handlers.closeSession({ sessionId }, context());
    expect(lines.some((l) => l.includes('fhe session created'))).toBe(true);
    for (const line of lines) expect(line).not.toContain(sessionId);
  });
});
