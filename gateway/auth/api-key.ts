import { createHash, randomBytes } from 'node:crypto';

/**
 * An API key is `veil_<id>_<secret>`: `id` is 8 random bytes in hex, not secret (it is the principal, shown by
 * `veil keys list`, logged, and what the gateway looks a key up by, so lookup time depends on nothing secret);
 * `secret` is 32 random bytes (256 bits) in base64url.
 */
const KEY_PATTERN = /^veil_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export type GeneratedApiKey = { id: string; key: string; sha256: string };

/** A fresh key from the CSPRNG, with the only thing the gateway ever stores about it: its hash. */
export function generateApiKey(): GeneratedApiKey {
  const id = randomBytes(8).toString('hex');
  const key = `veil_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, key, sha256: hashApiKey(key) };
}

/** The key id of a well-formed key, or undefined. */
export function apiKeyId(key: string): string | undefined {
  return KEY_PATTERN.exec(key)?.[1];
}

/**
 * SHA-256 of the whole key, hex. A fast hash is the right one here: slow password hashes (scrypt, Argon2) exist to make
 * guessing low-entropy human secrets expensive, but a 256-bit random secret cannot be guessed at any hash speed, and a
 * slow hash on every RPC would hand anyone holding garbage keys a CPU-exhaustion lever.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The key from an `authorization` metadata value (`Bearer <key>`, scheme case-insensitive), or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^bearer[ ]+(\S+)[ ]*$/i.exec(authorization ?? '');
  return match?.[1];
}
