import type { Hex } from 'viem';
import { ChainError } from './errors';
import { readSecretFile } from './read-secret-file';

export const PRIVATE_KEY_ENV = 'VEIL_CHAIN_PRIVATE_KEY';

export type LoadPrivateKeyParameters = {
  /** Environment to read `VEIL_CHAIN_PRIVATE_KEY` from (pass `process.env`; injected for tests). */
  env?: Record<string, string | undefined>;
  /** Path to a file holding the key as hex (a trailing newline is fine), mode 600. Takes precedence over the env var. */
  keyFile?: string;
  /** Name of the env var, if not `VEIL_CHAIN_PRIVATE_KEY`. */
  envName?: string;
};
export type LoadPrivateKeyReturnType = { privateKey: Hex; source: 'env' | 'file' };

/**
 * Loads a secp256k1 private key from a key file or the environment. Keys are never accepted from config files or
 * command-line flags (those end up in shell history, `ps` output and backups). Errors never contain key material.
 *
 * @example
 * const { privateKey } = loadPrivateKey({ env: process.env, keyFile: args['key-file'] })
 * @throws {ChainError} `private_key_missing`, `invalid_private_key`, `key_file_insecure` (group or others can access the file)
 */
export function loadPrivateKey({ env = {}, keyFile, envName = PRIVATE_KEY_ENV }: LoadPrivateKeyParameters = {}): LoadPrivateKeyReturnType {
  if (keyFile !== undefined) {
    const text = readSecretFile({ file: keyFile, what: 'key file' });
    return { privateKey: parsePrivateKey(text, `key file ${keyFile}`, { keyFile }), source: 'file' };
  }
  const value = env[envName];
  if (value === undefined || value.trim() === '') {
    throw new ChainError('private_key_missing', `no signing key: set ${envName} or pass --key-file`, { details: { envName } });
  }
  return { privateKey: parsePrivateKey(value, `environment variable ${envName}`, { envName }), source: 'env' };
}

function parsePrivateKey(text: string, where: string, details: Record<string, unknown>): Hex {
  const raw = text.trim().replace(/^0x/i, '');
  // Only the shape is reported, never the content.
  if (!/^[0-9a-fA-F]{64}$/.test(raw)) {
    throw new ChainError('invalid_private_key', `${where} does not hold a private key (expected 32 bytes as 64 hex digits)`, {
      details: { ...details, length: raw.length },
    });
  }
  if (/^0+$/.test(raw)) throw new ChainError('invalid_private_key', `${where} holds the zero key`, { details });
  return `0x${raw.toLowerCase()}`;
}
