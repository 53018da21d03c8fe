import type { Writable } from 'node:stream';

/**
 * Writes `chunk` and, when the stream's buffer is full, waits until it drains or closes: a slow reader slows the
 * writer instead of growing its buffer. The one backpressure rule of Veil's HTTP streams (the gateway's SSE relay and
 * `veil proxy`). Resolves false when the stream was already closed and nothing was written.
 */
export async function writeWithBackpressure(stream: Writable, chunk: string | Uint8Array): Promise<boolean> {
  if (stream.destroyed || stream.writableEnded) return false;
  if (stream.write(chunk)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
  return true;
}
