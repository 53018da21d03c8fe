/**
 * A vector as OpenAI's `encoding_format: "base64"` sends it: the float32 values as little-endian bytes, base64
 * encoded (the openai SDKs decode it with a Float32Array view, so the byte order is fixed, not the machine's).
 */
export function encodeFloat32Base64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes.toString('base64');
}
