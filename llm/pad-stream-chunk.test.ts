import { CHUNK_PAD_BYTES, padStreamChunk } from './pad-stream-chunk';

describe('padStreamChunk', () => {
  it('pads chunks of any content length, ASCII or not, to the same multiple of CHUNK_PAD_BYTES', () => {
    const chunk = (content: string) => ({ id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] });
    const sizes = ['', 'a', ' the', ' LORD,', 'é', '\u{1F600}', '"quoted"\n', 'x'.repeat(60)].map((c) => Buffer.byteLength(JSON.stringify(padStreamChunk(chunk(c)))));
    for (const s of sizes) expect(s % CHUNK_PAD_BYTES).toBe(0);
    expect(new Set(sizes).size).toBe(1);
  });
  it('keeps every field of the chunk, and an exact multiple gets an empty filler', () => {
    const padded = padStreamChunk({ a: 1, b: [2] });
    expect(padded).toMatchObject({ a: 1, b: [2] });
    const { obfuscation, ...rest } = padded;
    expect(padStreamChunk(rest).obfuscation).toBe(obfuscation);
    const exact = { a: 'y'.repeat(CHUNK_PAD_BYTES - Buffer.byteLength('{"a":"","obfuscation":""}')) };
    expect(padStreamChunk(exact).obfuscation).toBe('');
  });
});
