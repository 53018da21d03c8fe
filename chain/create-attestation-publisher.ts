import type { Address, Hash, Hex } from 'viem';
import { ChainError, type ChainErrorCode } from './errors';
import { publishAttestation, type PublishAttestationParameters } from './publish-attestation';
import type { RegistryPublicClient, RegistryWalletClient } from './types';
import { toUnixSeconds } from './validate';

export type AttestationPublisherLogEntry = {
  level: 'info' | 'warn' | 'error';
  event: 'attestation_published' | 'attestation_publish_retry' | 'attestation_publish_failed';
  signingAddress: string;
  attempt: number;
  code?: ChainErrorCode;
  /** A ChainError message: never contains keys or RPC credentials. */
  message?: string;
  delayMs?: number;
  transactionHash?: Hash;
};

export type CreateAttestationPublisherOptions = {
  /** Clients for the operator account, e.g. the result of `connectChain` with a private key. */
  client: { publicClient: RegistryPublicClient; walletClient: RegistryWalletClient | undefined };
  registryAddress: Address;
  /** Retries after the first attempt, for transport failures only. Default 5. */
  maxRetries?: number;
  /** First backoff delay; each retry multiplies it by `backoffFactor`, capped at `maxDelayMs`. Defaults 500 ms, ×2, 30 s. */
  initialDelayMs?: number;
  backoffFactor?: number;
  maxDelayMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Wall clock in ms, injected for tests; used to stop retrying once the attestation would be expired anyway. */
  now?: () => number;
  log?: (entry: AttestationPublisherLogEntry) => void;
};

export type PublishRequest = Omit<PublishAttestationParameters, 'registryAddress'>;

export type PublishOutcome =
  | { ok: true; transactionHash: Hash; blockNumber: bigint; gasUsed: bigint; measurementId: Hex; attempts: number }
  | { ok: false; code: ChainErrorCode; message: string; retryable: boolean; attempts: number };

export type AttestationPublisher = {
  /** Publishes (or refreshes) an attestation. Never rejects: failures resolve as `{ ok: false }` and are logged. */
  publish(request: PublishRequest): Promise<PublishOutcome>;
  /** Resolves when every queued publish has finished (for graceful shutdown). */
  idle(): Promise<void>;
};

/**
 * Creates the gateway's attestation publisher: call `publish` when a worker is verified and on every refresh.
 *
 * Publishes run one at a time, because they are sent from one account and concurrent sends would race for the same
 * nonce. Transport failures (`rpc_unavailable`) are retried with exponential backoff; contract refusals (e.g.
 * `measurement_not_approved`) are not, since they would fail the same way again. Nothing is ever thrown into the
 * caller: serving must not depend on the chain being up.
 *
 * @example
 * const publisher = createAttestationPublisher({ client: await connectChain({ rpcUrl, registryAddress, privateKey }), registryAddress, log })
 * void publisher.publish({ evidenceHash, platform: 'sev-snp', measurement, signingAddress, hpkeKeyHash, expiresAt })
 */
export function createAttestationPublisher({
  client,
  registryAddress,
  maxRetries = 5,
  initialDelayMs = 500,
  backoffFactor = 2,
  maxDelayMs = 30_000,
  sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now = Date.now,
  log = () => {},
}: CreateAttestationPublisherOptions): AttestationPublisher {
  let queue: Promise<unknown> = Promise.resolve();

  async function attemptAll(request: PublishRequest): Promise<PublishOutcome> {
    const signingAddress = String(request.signingAddress);
    let attempts = 0;
    const fail = (err: ChainError): PublishOutcome => {
      log({ level: 'error', event: 'attestation_publish_failed', signingAddress, attempt: attempts, code: err.code, message: err.message });
      return { ok: false, code: err.code, message: err.message, retryable: err.retryable, attempts };
    };
    let expiresAtSeconds: bigint;
    try {
      expiresAtSeconds = toUnixSeconds('expiresAt', request.expiresAt);
      if (!client.walletClient) throw new ChainError('private_key_missing', 'the publisher has no signing account');
    } catch (err) {
      return fail(err instanceof ChainError ? err : new ChainError('internal', 'publish: invalid request', { cause: err }));
    }
    const walletClient = client.walletClient;
    for (let retry = 0; ; retry++) {
      attempts++;
      try {
        const result = await publishAttestation(walletClient, client.publicClient, { ...request, registryAddress });
        log({ level: 'info', event: 'attestation_published', signingAddress, attempt: attempts, transactionHash: result.transactionHash });
        return { ok: true, ...result, attempts };
      } catch (thrown) {
        const err = thrown instanceof ChainError ? thrown : new ChainError('internal', 'publish: unexpected error', { cause: thrown });
        if (!err.retryable || retry >= maxRetries) return fail(err);
        const delayMs = Math.min(maxDelayMs, initialDelayMs * backoffFactor ** retry);
        // Retrying past the expiry would only publish an attestation the contract refuses; give up instead.
        if (BigInt(Math.floor((now() + delayMs) / 1000)) >= expiresAtSeconds) return fail(err);
        log({ level: 'warn', event: 'attestation_publish_retry', signingAddress, attempt: attempts, code: err.code, message: err.message, delayMs });
        await sleep(delayMs);
      }
    }
  }

  return {
    publish(request) {
      const run = queue.then(() => attemptAll(request));
      // The queue must survive anything, even a throwing `log` or `sleep`.
      const safe = run.catch(
        (err: unknown): PublishOutcome => ({
          ok: false,
          code: 'internal',
          message: `publish: unexpected error (${err instanceof Error ? err.name : typeof err})`,
          retryable: false,
          attempts: 0,
        }),
      );
      queue = safe;
      return safe;
    },
    idle: () => queue.then(() => undefined),
  };
}
