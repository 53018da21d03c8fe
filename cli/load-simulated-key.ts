import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { readSecretFile } from '../chain';

/**
 * The SIMULATED signing key of `veil worker --simulated-key-file FILE`: read from FILE (PKCS#8 PEM, mode 600 — the
 * same rule as every key file), or created there on first use, so the verifier key a gateway pinned in
 * tee.simulatedKeys survives restarts. A development convenience: SIMULATED evidence proves nothing about hardware.
 *
 * @throws {ChainError} `key_file_insecure` (group or others can access FILE), `private_key_missing` (unreadable)
 * @throws {Error} FILE holds no PEM private key
 */
export function loadSimulatedKey(file: string): { privateKey: KeyObject; created: boolean } {
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    // 'wx': never overwrite a file that appeared meanwhile; 0600 from the first byte.
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
    return { privateKey, created: true };
  }
  const pem = readSecretFile({ file, what: 'simulated key file' });
  try {
    return { privateKey: createPrivateKey(pem), created: false };
  } catch {
    throw new Error(`simulated key file ${file} does not hold a PEM private key`);
  }
}
