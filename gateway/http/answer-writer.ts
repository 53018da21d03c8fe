import type { FastifyReply } from 'fastify';
import type { StoredAnswer } from './idempotency-store';
import { writeWithBackpressure } from '../../proto';

/** An SSE answer being written: events go to the client as they come and are recorded for Idempotency-Key replay. */
export type SseStream = {
  /** Writes one complete event text (`event: …\ndata: …\n\n`), waiting while the socket is full. */
  write(event: string): Promise<void>;
  /** Ends the response. `ok`: whether it ended with the node's signed end (only then may it be stored). */
  end(ok: boolean): void;
};

/** Where a route's answer goes: sent whole, or streamed. Both are recorded when the request has an Idempotency-Key. */
export type AnswerWriter = {
  send(answer: StoredAnswer & { body: Buffer }): void;
  openStream(headers: Record<string, string>): SseStream;
};

export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  // Reverse proxies (nginx) must not buffer the stream: time to first token is the point of streaming.
  'x-accel-buffering': 'no',
});

/**
 * Writes to the reply and tells `onAnswer` what was sent once it is complete (the whole body, or every event of a
 * stream). A hijacked SSE reply bypasses fastify's hooks, so it takes the headers already set (x-request-id) itself.
 */
export function createAnswerWriter(reply: FastifyReply, onAnswer?: (answer: StoredAnswer, ok: boolean) => void): AnswerWriter {
  return {
    send(answer) {
      onAnswer?.(answer, answer.status < 400);
      void reply.code(answer.status).headers(answer.headers).send(answer.body);
    },
    openStream(headers) {
      reply.hijack();
      const raw = reply.raw;
      const all = { ...SSE_HEADERS, ...headers };
      // No flushHeaders(): the caller opens the stream holding its first event, and the headers leave in the same
      // write as that event. A separate header write costs a syscall and a wake-up of the reader on every stream.
      raw.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), ...all });
      const events: string[] = [];
      return {
        async write(event) {
          events.push(event);
          await writeWithBackpressure(raw, event);
        },
        end(ok) {
          if (!raw.writableEnded) raw.end();
          onAnswer?.({ status: 200, headers: all, events }, ok);
        },
      };
    },
  };
}

/** Sends a stored answer again (Idempotency-Key replay), marked as such, under this request's own x-request-id. */
export function replayAnswer(reply: FastifyReply, answer: StoredAnswer): void {
  reply.header('x-veil-idempotent-replayed', 'true');
  if (answer.body) {
    void reply.code(answer.status).headers(answer.headers).send(answer.body);
    return;
  }
  reply.hijack();
  reply.raw.writeHead(answer.status, { ...(reply.getHeaders() as Record<string, string>), ...answer.headers });
  reply.raw.end(answer.events.join(''));
}
