import { encodeFloat32Base64 } from './encode-float32-base64';

describe('encodeFloat32Base64', () => {
  it('writes little-endian float32 bytes, as OpenAI sends base64 embeddings', () => {
    // 1.0 = 0x3f800000 → bytes 00 00 80 3f; -2.5 = 0xc0200000 → 00 00 20 c0.
    expect(encodeFloat32Base64(new Float32Array([1, -2.5]))).toBe(Buffer.from([0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0]).toString('base64'));
    expect(encodeFloat32Base64(new Float32Array([]))).toBe('');
  });
  it('round-trips through the decoding the openai SDK does (a Float32Array over the bytes)', () => {
    const v = new Float32Array([0.1, -0.333, 1e-8, 3.4e38]);
    const bytes = Buffer.from(encodeFloat32Base64(v), 'base64');
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, v.length))).toEqual(Array.from(v));
  });
});
