import Fastify from 'fastify';
import { createAnswerWriter } from './answer-writer';

describe('createAnswerWriter().openStream', () => {
  test('sends the headers with the first event, not in a write of their own, and records every event', async () => {
    const app = Fastify();
    const seen: { afterOpen?: number; afterFirst?: number; answer?: unknown } = {};
    app.get('/stream', async (_request, reply) => {
      const writer = createAnswerWriter(reply, (answer, ok) => {
        seen.answer = { ...answer, ok };
      });
      reply.header('x-request-id', 'req-1');
      const sse = writer.openStream({ 'x-extra': 'yes' });
      seen.afterOpen = reply.raw.socket!.bytesWritten; // the connection's first response: nothing sent before it
      await sse.write('event: sealed\ndata: {"e":"AA=="}\n\n');
      seen.afterFirst = reply.raw.socket!.bytesWritten;
      await sse.write('event: sealed\ndata: {"e":"AQ=="}\n\n');
      sse.end(true);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = app.server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/stream`);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(response.headers.get('x-request-id')).toBe('req-1');
      expect(response.headers.get('x-extra')).toBe('yes');
      expect(await response.text()).toBe('event: sealed\ndata: {"e":"AA=="}\n\nevent: sealed\ndata: {"e":"AQ=="}\n\n');
      // Flushed alone, the headers would cost every stream one more syscall and wake-up of the reader.
      expect(seen.afterOpen).toBe(0);
      expect(seen.afterFirst).toBeGreaterThan(0);
      expect(seen.answer).toMatchObject({ status: 200, ok: true, events: ['event: sealed\ndata: {"e":"AA=="}\n\n', 'event: sealed\ndata: {"e":"AQ=="}\n\n'] });
    } finally {
      await app.close();
    }
  });
});
