import * as grpc from '@grpc/grpc-js';
import { callUnary, runWithLimits } from './run-with-limits';

const errors = { cancelled: () => new Error('cancelled'), deadlineExceeded: () => new Error('deadline') };
const DAY = 24 * 3600 * 1000;

/** An AbortSignal that counts its abort listeners (what a leaking wrapper accumulates). */
function countingSignal() {
  const controller = new AbortController();
  let listeners = 0;
  const signal = controller.signal;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
    if (args[0] === 'abort') listeners++;
    add(...args);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
    if (args[0] === 'abort') listeners--;
    remove(...args);
  }) as typeof signal.removeEventListener;
  return { controller, signal, listeners: () => listeners };
}

describe('runWithLimits', () => {
  test('resolves with the result and leaves no listener on a long-lived signal', async () => {
    const s = countingSignal();
    for (let i = 0; i < 20; i++) await expect(runWithLimits(async () => i, { signal: s.signal, deadline: Date.now() + 1_000 }, errors)).resolves.toBe(i);
    for (let i = 0; i < 20; i++) await expect(runWithLimits(async () => { throw new Error('x'); }, { signal: s.signal }, errors)).rejects.toThrow('x');
    expect(s.listeners()).toBe(0);
  });

  test('abort rejects at once with the caller\'s error and aborts the operation\'s own signal', async () => {
    const s = countingSignal();
    let inner: AbortSignal | undefined;
    const pending = runWithLimits((signal) => ((inner = signal), new Promise(() => undefined)), { signal: s.signal }, errors);
    s.controller.abort();
    await expect(pending).rejects.toThrow('cancelled');
    expect(inner?.aborted).toBe(true);
    expect(s.listeners()).toBe(0);
    await expect(runWithLimits(async () => 1, { signal: s.signal }, errors)).rejects.toThrow('cancelled');
  });

  test('the deadline rejects and aborts the operation; a past deadline never starts it', async () => {
    let inner: AbortSignal | undefined;
    await expect(runWithLimits((signal) => ((inner = signal), new Promise(() => undefined)), { deadline: Date.now() + 20 }, errors)).rejects.toThrow('deadline');
    expect(inner?.aborted).toBe(true);
    let started = false;
    await expect(runWithLimits(async () => (started = true), { deadline: Date.now() - 1 }, errors)).rejects.toThrow('deadline');
    expect(started).toBe(false);
  });

  test('a deadline beyond 24.8 days does not abort at once (setTimeout overflow)', async () => {
    await expect(runWithLimits(() => new Promise((resolve) => setTimeout(() => resolve('ok'), 30)), { deadline: Date.now() + 30 * DAY }, errors)).resolves.toBe('ok');
  });

  test('an operation that throws synchronously rejects instead of escaping', async () => {
    await expect(runWithLimits(() => { throw new Error('sync'); }, {}, errors)).rejects.toThrow('sync');
  });
});

describe('callUnary', () => {
  test('cancels the gRPC call on the wire when the caller aborts, and maps statuses', async () => {
    let serverSawCancel = false;
    const service: grpc.ServiceDefinition = {
      Echo: {
        path: '/t.T/Echo', requestStream: false, responseStream: false,
        requestSerialize: (v: Buffer) => v, requestDeserialize: (b: Buffer) => b, responseSerialize: (v: Buffer) => v, responseDeserialize: (b: Buffer) => b,
      },
    };
    const server = new grpc.Server();
    server.addService(service, {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        if (call.request.byteLength === 1) return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'bad' });
        call.on('cancelled', () => (serverSawCancel = true));
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const Client = grpc.makeGenericClientConstructor(service, 'T');
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const mapped = { ...errors, fromStatus: (e: grpc.ServiceError) => new Error(`status ${e.code}`) };
    try {
      await expect(callUnary(client, 'Echo', Buffer.from([1]), {}, mapped)).rejects.toThrow(`status ${grpc.status.INVALID_ARGUMENT}`);
      const controller = new AbortController();
      const pending = callUnary(client, 'Echo', Buffer.from([1, 2]), { signal: controller.signal }, mapped);
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.abort();
      await expect(pending).rejects.toThrow('cancelled');
      for (let i = 0; i < 50 && !serverSawCancel; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(serverSawCancel).toBe(true);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
