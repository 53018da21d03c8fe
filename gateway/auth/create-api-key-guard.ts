import { timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import { VeilError } from '../errors';
import type { Logger } from '../logger';
import { apiKeyId, bearerToken, hashApiKey } from './api-key';
import type { CallGuard, RpcScope } from './call-guard';
import { readKeysFile, type ApiKeyRecord } from './keys-file';
import { createTokenBucket, type TokenBucket } from './token-bucket';

export type GuardTimers = { setInterval(fn: () => void, ms: number): unknown; clearInterval(handle: unknown): void };

export type CreateApiKeyGuardOptions = {
  /** The resolved keys file (`resolveKeysFile`). */
  file: string;
  logger: Logger;
  /** How often the file is checked for changes (revocation takes effect within this). Default 1000 ms. */
  reloadMs?: number;
  /** Clock of the rate limiter, epoch ms. */
  now?: () => number;
  timers?: GuardTimers;
};

export type ApiKeyGuard = CallGuard & {
  /** Keys currently accepted (not revoked). */
  readonly activeKeys: number;
  /** Re-reads the file now if it changed (the watcher calls this; tests may too). */
  reload(): void;
  /** The budget of an accepted key (its `budget`, in token atomic units), or undefined when it has none. */
  budgetOf(keyId: string): bigint | undefined;
  close(): void;
};

const INVALID = 'the API key is not valid (unknown or revoked)';

/**
 * API-key authentication for `auth.mode = api-keys`. The keys file holds only hashes; it is re-read whenever it
 * changes, so `veil keys create|revoke` take effect without a restart. A file that cannot be used (bad JSON, bad
 * field, writable by others) makes the gateway refuse every key until it is fixed: it fails closed rather than keep
 * honouring keys a broken file may have revoked.
 */
export function createApiKeyGuard(options: CreateApiKeyGuardOptions): ApiKeyGuard {
  const { file, logger } = options;
  const now = options.now ?? Date.now;
  const timers = options.timers ?? { setInterval: (fn, ms) => setInterval(fn, ms).unref(), clearInterval: (h) => clearInterval(h as NodeJS.Timeout) };
  let keys = new Map<string, ApiKeyRecord>();
  const buckets = new Map<string, TokenBucket>();
  let signature: string | undefined;

  const load = () => {
    const next = new Map<string, ApiKeyRecord>();
    try {
      for (const record of readKeysFile(file).keys) if (record.revokedAt === null) next.set(record.id, record);
    } catch (err) {
      keys = new Map();
      buckets.clear();
      logger.error('api keys file unusable: every key is refused until it is fixed', { file, reason: (err as Error).message });
      return;
    }
    for (const id of buckets.keys()) if (!next.has(id)) buckets.delete(id);
    keys = next;
    logger.info('api keys loaded', { file, active: keys.size });
    if (keys.size === 0) logger.warn('no active API keys: every call is refused; create one with `veil keys create`', { file });
  };
  const reload = () => {
    const current = fileSignature(file);
    if (current === signature) return;
    signature = current;
    load();
  };
  reload();
  const watcher = timers.setInterval(reload, options.reloadMs ?? 1000);

  return {
    get activeKeys() {
      return keys.size;
    },
    admit(authorization) {
      if (authorization === undefined) {
        throw new VeilError('unauthenticated', 'this gateway requires an API key: send metadata "authorization: Bearer <key>"');
      }
      const key = bearerToken(authorization);
      const id = key === undefined ? undefined : apiKeyId(key);
      if (key === undefined || id === undefined) throw new VeilError('unauthenticated', 'the authorization metadata must be "Bearer veil_<id>_<secret>"');
      // Looked up by the public id; only the hash comparison involves the secret, and it runs in constant time.
      const record = keys.get(id);
      if (!record || !timingSafeEqual(Buffer.from(hashApiKey(key), 'hex'), Buffer.from(record.sha256, 'hex'))) {
        throw new VeilError('unauthenticated', INVALID);
      }
      if (record.rate) {
        let bucket = buckets.get(id);
        if (!bucket) buckets.set(id, (bucket = createTokenBucket({ ...record.rate, now })));
        if (!bucket.take()) throw new VeilError('rate_limited', `API key ${id} is limited to ${record.rate.perSecond} calls per second (burst ${record.rate.burst}); retry with backoff`);
      }
      return id;
    },
    authorize(principal, scope: RpcScope) {
      const record = keys.get(principal);
      if (!record) throw new VeilError('unauthenticated', INVALID);
      if (!record.modes.includes(scope.mode)) {
        throw new VeilError('permission_denied', `API key ${principal} may not use ${scope.mode.toUpperCase()} mode (it may use: ${record.modes.join(', ')})`);
      }
      if (scope.model !== undefined && record.models !== '*' && !record.models.includes(scope.model)) {
        throw new VeilError('permission_denied', `API key ${principal} may not use this model (it may use: ${record.models.join(', ')})`, { param: 'model_id' });
      }
    },
    reload,
    budgetOf(keyId) {
      const budget = keys.get(keyId)?.budget;
      return typeof budget === 'string' ? BigInt(budget) : undefined;
    },
    close: () => timers.clearInterval(watcher),
  };
}

/** Changes whenever the file is replaced (rename: new inode) or rewritten in place (size, mtime). */
function fileSignature(file: string): string {
  try {
    const s = fs.statSync(file, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.mode}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code}`;
  }
}
