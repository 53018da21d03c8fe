import { PassThrough, Readable } from 'node:stream';
import { MIN_KEY_CHUNK_BYTES, type CreateSessionRequest } from '../../proto';
import { keyUploadMessages } from './key-upload-messages';

const header = (galois: number, relin: number) => ({ modelId: 'm', variant: '', specSha256: '', galoisKeysBytes: galois, relinKeysBytes: relin });
const bytes = (from: number, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) & 0xff));

async function all(iterable: AsyncIterable<CreateSessionRequest>): Promise<CreateSessionRequest[]> {
  const out: CreateSessionRequest[] = [];
  for await (const m of iterable) out.push(m);
  return out;
}

describe('keyUploadMessages', () => {
  test('the header first, then chunks gathered up to maxChunkBytes, split at the Galois/relin boundary, bytes unchanged', async () => {
    const body = Readable.from([bytes(0, 7), bytes(7, 6)]); // 13 bytes: 9 Galois, 4 relin
    const messages = await all(keyUploadMessages(body, header(9, 4), 4));
    expect(messages[0]).toEqual({ header: header(9, 4) });
    const chunks = messages.slice(1).map((m) => [m.chunk!.kind, [...m.chunk!.data]]);
    expect(chunks).toEqual([
      ['KIND_GALOIS', [0, 1, 2, 3]], ['KIND_GALOIS', [4, 5, 6, 7]], // a chunk spans network reads
      ['KIND_GALOIS', [8]], ['KIND_RELIN', [9, 10, 11, 12]], // a short chunk only where it completes its key
    ]);
  });

  test(`small network reads are gathered into chunks of at least ${MIN_KEY_CHUNK_BYTES} bytes (createSession's rule) unless they complete a key`, async () => {
    const reads = Array.from({ length: 100 }, (_, i) => bytes(i * 1000, 1000)); // a client writing 1 KB at a time
    const messages = await all(keyUploadMessages(Readable.from(reads), header(70_000, 30_000)));
    const sizes = messages.slice(1).map((m) => [m.chunk!.kind, m.chunk!.data.byteLength]);
    // Short only where a key ends: the last Galois chunk and the last relin chunk.
    const endsItsKey = (i: number) => i === sizes.length - 1 || sizes[i + 1]![0] !== sizes[i]![0];
    expect(sizes.every(([, n], i) => (n as number) >= MIN_KEY_CHUNK_BYTES || endsItsKey(i))).toBe(true);
    expect(sizes.length).toBe(7); // 4 × 16 KiB + 4,464 Galois; 16 KiB + 13,616 relin
    expect(sizes.filter(([k]) => k === 'KIND_GALOIS').reduce((a, [, n]) => a + (n as number), 0)).toBe(70_000);
    expect(sizes.filter(([k]) => k === 'KIND_RELIN').reduce((a, [, n]) => a + (n as number), 0)).toBe(30_000);
    expect(Buffer.concat(messages.slice(1).map((m) => m.chunk!.data))).toEqual(Buffer.concat(reads));
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
    await iterator.next(); // header; the 3 bytes wait for more (a chunk is gathered)
    setTimeout(() => body.destroy(new Error('aborted')), 10);
    await expect(iterator.next()).rejects.toMatchObject({ code: 'cancelled' });
  });

  test('stopping early stops reading without destroying the request (its refusal must still be answerable)', async () => {
    const body = new PassThrough();
    body.write(bytes(0, 3));
    const iterator = keyUploadMessages(body, header(3, 0));
    await iterator.next();
    await iterator.next(); // the 3 bytes complete the key
    await iterator.return();
    expect(body.destroyed).toBe(false);
  });
});
