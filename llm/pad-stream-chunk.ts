/** Every stream chunk's JSON is padded to a multiple of this many UTF-8 bytes (unless the caller opts out). */
export const CHUNK_PAD_BYTES = 256;

// `,"obfuscation":""` — what adding the field costs before its value.
const FIELD_BYTES = Buffer.byteLength(',"obfuscation":""');

/**
 * Adds OpenAI's `obfuscation` field (stream_options.include_obfuscation, on by default) to a chunk, sized so the
 * chunk's JSON is a whole number of CHUNK_PAD_BYTES. A sealed event still shows its length to the gateway that
 * relays it, and token lengths alone let an observer guess the text (Weiss et al., "What Was Your Prompt? A Remote
 * Keylogging Attack on AI Assistants", USENIX Security 2024); padding to a fixed bucket makes almost every chunk the
 * same size. OpenAI fills the field with random characters of random length; a fixed bucket hides more, and the
 * filler's value does not matter because the event is encrypted.
 */
export function padStreamChunk<T extends object>(chunk: T): T & { obfuscation: string } {
  const bytes = Buffer.byteLength(JSON.stringify(chunk)) + FIELD_BYTES;
  const filler = (CHUNK_PAD_BYTES - (bytes % CHUNK_PAD_BYTES)) % CHUNK_PAD_BYTES;
  return { ...chunk, obfuscation: 'x'.repeat(filler) };
}
