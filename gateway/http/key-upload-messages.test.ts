import { PassThrough, Readable } from 'node:stream';
import type { CreateSessionRequest } from '../../proto';
import { keyUploadMessages } from './key-upload-messages';

const header = (galois: number, relin: number) => ({ modelId: 'm', variant: '', specSha256: '', galoisKeysBytes: galois, relinKeysBytes: relin });
const bytes = (from: number, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) & 0xff));

async function all(iterable: AsyncIterable<CreateSessionRequest>): Promise<CreateSessionRequest[]> {
  const out: CreateSessionRequest[] = [];
  for await (const m of iterable) out.push(m);
  return out;
}

describe('keyUploadMessages', () => {
  test('the header first, then chunks split at the Galois/relin boundary and at maxChunkBytes, bytes unchanged', async () => {
    const body = Readable.from([bytes(0, 7), bytes(7, 6)]); // 13 bytes: 9 Galois, 4 relin
    const messages = await all(keyUploadMessages(body, header(9, 4), 4));
    expect(messages[0]).toEqual({ header: header(9, 4) });
    const chunks = messages.slice(1).map((m) => [m.chunk!.kind, [...m.chunk!.data]]);
    expect(chunks).toEqual([
      ['KIND_GALOIS', [0, 1, 2, 3]], ['KIND_GALOIS', [4, 5, 6]],
      ['KIND_GALOIS', [7, 8]], ['KIND_RELIN', [9, 10, 11, 12]],
    ]);
  });

  test('bytes past the declared sizes are handed on (labelled with the last kind) for createSession to refuse', async () => {
    const galoisOnly = await all(keyUploadMessages(Readable.from([bytes(0, 5)]), header(3, 0)));
    expect(galoisOnly.slice(1).map((m) => [m.chunk!.kind, m.chunk!.data.byteLength])).toEqual([['KIND_GALOIS', 3], ['KIND_GALOIS', 2]]);
    const withRelin = await all(keyUploadMessages(Readable.from([bytes(0, 5)]), header(2, 1)));
    expect(withRelin.slice(1).map((m) => [m.chunk!.kind, m.chunk!.data.byteLength])).toEqual([['KIND_GALOIS', 2], ['KIND_RELIN', 3]]);
  });

  test('no body: the header alone (a keyless session, or a truncated upload for createSession to refuse)', async () => {
    expect(await all(keyUploadMessages(undefined, header(0, 0)))).toEqual([{ header: header(0, 0) }]);
  });

  test('error: a body that breaks mid-stream ends the upload as cancelled', async () => {
    const body = new PassThrough();
    body.write(bytes(0, 3));
    const iterator = keyUploadMessages(body, header(10, 0));
    await iterator.next(); // header
    await iterator.next(); // 3 bytes
    setTimeout(() => body.destroy(new Error('aborted')), 10);
    await expect(iterator.next()).rejects.toMatchObject({ code: 'cancelled' });
  });

  test('stopping early stops reading without destroying the request (its refusal must still be answerable)', async () => {
    const body = new PassThrough();
    body.write(bytes(0, 3));
    const iterator = keyUploadMessages(body, header(10, 0));
    await iterator.next();
    await iterator.next();
    await iterator.return();
    expect(body.destroyed).toBe(false);
  });
});
