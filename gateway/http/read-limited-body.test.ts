import { PassThrough, Readable } from 'node:stream';
import { VeilError } from '../errors';
import { readLimitedBody } from './read-limited-body';

describe('readLimitedBody', () => {
  test('reads a body up to the limit, whole', async () => {
    const body = await readLimitedBody(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), '4', 4);
    expect(body.toString()).toBe('abcd');
  });

  test('error: a declared length above the limit is refused before reading; a chunked body as it passes the limit', async () => {
    const untouched = new PassThrough();
    await expect(readLimitedBody(untouched, '5', 4)).rejects.toMatchObject({ code: 'message_too_large', param: 'body' });
    expect(untouched.readableFlowing).toBeNull(); // never read
    const growing = new PassThrough();
    growing.write(Buffer.alloc(3));
    growing.write(Buffer.alloc(3)); // never ends: the refusal must not wait for the end
    await expect(readLimitedBody(growing, undefined, 4)).rejects.toMatchObject({ code: 'message_too_large' });
    expect(growing.destroyed).toBe(false);
  });

  test('error: a body still arriving when the call is aborted stops at once with the abort\'s reason', async () => {
    const stalled = new PassThrough();
    stalled.write(Buffer.alloc(1));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new VeilError('deadline_exceeded')), 20);
    await expect(readLimitedBody(stalled, undefined, 100, controller.signal)).rejects.toMatchObject({ code: 'deadline_exceeded' });
  });

  test('error: a connection that breaks mid-body is cancelled', async () => {
    const broken = new PassThrough();
    setTimeout(() => broken.destroy(new Error('aborted')), 10);
    await expect(readLimitedBody(broken, undefined, 100)).rejects.toMatchObject({ code: 'cancelled' });
  });
});
