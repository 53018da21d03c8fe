import type { Http2Session } from 'node:http2';
import { createVeilClient } from '../../client';
import { createGrpcServer } from './create-grpc-server';

test('client connections get a receive window large enough for a ciphertext (no WINDOW_UPDATE stall)', async () => {
  const server = await createGrpcServer({
    host: '127.0.0.1', port: 0, maxReceiveMessageBytes: 1 << 26, maxSendMessageBytes: 1 << 26,
    services: { Trust: { GetRegistry: (_call: unknown, callback: (e: null, r: object) => void) => callback(null, {}) } },
  });
  const sessions: Http2Session[] = [];
  for (const http2Server of (server.server as unknown as { http2Servers: Map<{ on: Function }, unknown> }).http2Servers.keys()) {
    http2Server.on('session', (s: Http2Session) => sessions.push(s));
  }
  const client = createVeilClient({ target: server.address });
  try {
    await client.getTrustRegistry();
    await new Promise((r) => setTimeout(r, 100));
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.localSettings.initialWindowSize).toBe(8 * 1024 * 1024);
    expect(sessions[0]!.state.localWindowSize).toBeGreaterThan(65_535);
  } finally {
    client.close();
    await server.close();
  }
});
