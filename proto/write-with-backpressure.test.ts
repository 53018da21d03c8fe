import { Writable } from 'node:stream';
import { writeWithBackpressure } from './write-with-backpressure';

test('waits for drain when the buffer is full, returns at once otherwise, and writes nothing to a closed stream', async () => {
  const chunks: string[] = [];
  let release: (() => void) | undefined;
  const slow = new Writable({ highWaterMark: 4, write(chunk, _enc, cb) { chunks.push(String(chunk)); release = cb; } });
  await expect(writeWithBackpressure(slow, 'ab')).resolves.toBe(true); // below the mark: no wait
  let waited = false;
  const full = writeWithBackpressure(slow, 'cdef').then((r) => ((waited = true), r));
  await new Promise((r) => setImmediate(r));
  expect(waited).toBe(false); // the buffer is full until the first write completes
  release!();
  await new Promise((r) => setImmediate(r));
  release!();
  await expect(full).resolves.toBe(true);
  slow.destroy();
  await expect(writeWithBackpressure(slow, 'gh')).resolves.toBe(false);
  expect(chunks).toEqual(['ab', 'cdef']);
});
