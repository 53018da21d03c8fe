import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { captureCli } from '../test/support/capture-cli';
import { run } from './health';

describe('veil health', () => {
  let server: grpc.Server;
  let health: HealthImplementation;
  let target: string;

  beforeAll(async () => {
    server = new grpc.Server();
    health = new HealthImplementation({ '': 'SERVING', 'veil.v1.Fhe': 'NOT_SERVING' });
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    target = `127.0.0.1:${port}`;
  });
  afterAll(() => server.forceShutdown());

  test('exit 0 when the server answers SERVING', async () => {
    const r = await captureCli(run, ['--target', target]);
    expect(r).toMatchObject({ code: 0, out: `${target}: SERVING` });
  });

  test('exit 1 when a service is NOT_SERVING, and again once its status changes', async () => {
    expect((await captureCli(run, ['--target', target, '--service', 'veil.v1.Fhe'])).code).toBe(1);
    health.setStatus('veil.v1.Fhe', 'SERVING');
    expect((await captureCli(run, ['--target', target, '--service', 'veil.v1.Fhe'])).code).toBe(0);
  });

  test('exit 1 for an unknown service and for a port nobody listens on', async () => {
    const unknown = await captureCli(run, ['--target', target, '--service', 'veil.v1.Nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('NOT_FOUND');
    const closed = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) => {
      closed.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    closed.forceShutdown();
    const r = await captureCli(run, ['--target', `127.0.0.1:${port}`, '--timeout-ms', '500']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('unreachable');
  });

  test('error: usage problems exit 2', async () => {
    expect((await captureCli(run, ['--timeout-ms', 'soon'])).code).toBe(2);
    expect((await captureCli(run, ['--tls-cert', 'c.pem'])).code).toBe(2);
    expect((await captureCli(run, ['--bogus'])).code).toBe(2);
  });
});
