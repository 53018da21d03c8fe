import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Hash } from 'viem';
import type { VoucherClaim } from '../chain';
import type { ClaimableChannel, PaymentLedger, PendingClaim } from './payment-ledger';

// Looked up per use, not once: a tracer taken before the SDK was (re)installed would keep feeding the old one.
const tracer = () => trace.getTracer('veil-payments');

/** One settlement round as a span (issue #12): how many channels it claimed; amounts stay in the ledger. */
function tracedRound<T extends { claimed: number }>(mode: string, round: () => Promise<T>): Promise<T> {
  return tracer().startActiveSpan('veil.settlement.round', { attributes: { 'veil.settlement.mode': mode } }, async (span) => {
    try {
      const result = await round();
      span.setAttribute('veil.settlement.channels', result.claimed);
      return result;
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'settlement_failed' });
      throw err;
    } finally {
      span.end();
    }
  });
}

export type SettlementWorkerOptions = {
  ledger: PaymentLedger;
  /**
   * Sends one batched claim (chain `claimVouchers` with the receiver's wallet): must call `onSent(hash)` once the
   * transaction is sent and resolve when it is mined, or throw (reverted, timed out, not sent).
   */
  claim(claims: VoucherClaim[], onSent: (hash: Hash) => Promise<void>): Promise<void>;
  /** Whether a sent claim was mined: 'mined', 'reverted', or 'unknown' (not found yet: still pending or dropped). */
  receiptOf(hash: Hash): Promise<'mined' | 'reverted' | 'unknown'>;
  /** Claim when a channel's unclaimed charges reach this (atomic units). */
  thresholdAmount: bigint;
  /** And at least this often, whatever the amounts (ms). */
  intervalMs: number;
  /** Channels per claim transaction (x402 facilitators use 25). */
  batchSize?: number;
  /** A pending claim whose receipt has not appeared after this long is given up as dropped (its channels are claimed again). */
  pendingTimeoutMs?: number;
  now?: () => number;
  log?: (event: string, fields: Record<string, string | number | undefined>) => void;
};

export type SettlementWorker = {
  /** Claims now: every claimable channel (`all`) or only those over the threshold. Resolves when the round is done. */
  run(mode?: 'all' | 'threshold'): Promise<{ claimed: number; amount: bigint }>;
  /** A payer started withdrawing `channelId` (a mirrored WithdrawInitiated): claim everything at once, before the delay ends. */
  withdrawalStarted(channelId: string): Promise<void>;
  stop(): Promise<void>;
};

/**
 * Turns the ledger's charges into on-chain claims (issue #11 §3): on a timer, as soon as a channel's unclaimed charges
 * pass the threshold (call `run('threshold')` after commits), and at once when a payer starts a withdrawal. Each claim
 * asks for exactly the ledger's charged total under the best voucher (≤ its ceiling), so what the chain pays out
 * equals what was charged. The transaction hash is recorded as a pending claim before the receipt wait, so a restart
 * waits on it again instead of claiming twice (a second claim of the same total would pay nothing anyway: claims are
 * cumulative). One round at a time.
 */
export function createSettlementWorker(options: SettlementWorkerOptions): SettlementWorker {
  const { ledger } = options;
  const now = options.now ?? Date.now;
  const batchSize = options.batchSize ?? 25;
  const pendingTimeoutMs = options.pendingTimeoutMs ?? 10 * 60_000;
  const log = options.log ?? (() => undefined);
  let round: Promise<{ claimed: number; amount: bigint }> | undefined;
  let stopped = false;

  /** Settles what a previous run (or crash) left pending: mined → claimed; reverted or long gone → dropped. */
  const settlePending = async () => {
    for (const pending of await ledger.pendingClaims()) {
      const outcome = await options.receiptOf(pending.txHash as Hash).catch(() => 'unknown' as const);
      if (outcome === 'mined') await ledger.settleClaim(pending.txHash, 'mined', now());
      else if (outcome === 'reverted' || now() - pending.sentAt > pendingTimeoutMs) {
        await ledger.settleClaim(pending.txHash, 'dropped', now());
        log('settlement claim dropped', { tx: pending.txHash, outcome });
      }
    }
  };

  const claimBatch = async (batch: ClaimableChannel[]): Promise<bigint> => {
    const claims: VoucherClaim[] = batch.map((c) => ({
      config: c.config,
      voucher: { channelId: c.channelId as Hash, maxClaimableAmount: c.signedMax, signature: c.signature as Hash },
      totalClaimed: c.amount,
    }));
    let sent: string | undefined;
    try {
      await options.claim(claims, async (hash) => {
        sent = hash;
        const pending: PendingClaim = { txHash: hash, entries: batch.map((c) => ({ channelId: c.channelId, amount: c.amount })), sentAt: now() };
        await ledger.recordClaim(pending);
      });
    } catch (err) {
      // Sent and then failed or timed out: left pending, the next round looks at its receipt again.
      log('settlement claim failed', { tx: sent, channels: batch.length, reason: (err as Error).message });
      if (sent !== undefined) await settlePending().catch(() => undefined);
      return 0n;
    }
    await ledger.settleClaim(sent!, 'mined', now());
    const amount = batch.reduce((sum, c) => sum + (c.amount - c.claimedOnchain), 0n);
    log('settlement claimed', { tx: sent, channels: batch.length, amount: amount.toString() });
    return amount;
  };

  const runRound = async (mode: 'all' | 'threshold') => {
    await settlePending();
    let claimed = 0;
    let amount = 0n;
    for (;;) {
      const due = (await ledger.claimable(batchSize * 4)).filter((c) => mode === 'all' || c.amount - c.claimedOnchain >= options.thresholdAmount);
      if (due.length === 0 || stopped) break;
      const batch = due.slice(0, batchSize);
      const paid = await claimBatch(batch);
      if (paid === 0n) break; // a failed claim: retried next round, not in a tight loop
      claimed += batch.length;
      amount += paid;
    }
    return { claimed, amount };
  };

  const run = (mode: 'all' | 'threshold' = 'all') => {
    // One round at a time: a trigger during a round waits for it, then runs its own (the charges may have grown).
    const next = (round ?? Promise.resolve({ claimed: 0, amount: 0n })).catch(() => undefined).then(() => tracedRound(mode, () => runRound(mode)));
    round = next;
    return next;
  };

  const timer = setInterval(() => void run('all').catch((err: unknown) => log('settlement round failed', { reason: (err as Error).message })), options.intervalMs);
  timer.unref();

  return {
    run,
    async withdrawalStarted(channelId) {
      log('settlement withdrawal started', { channel: channelId });
      await run('all');
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await round?.catch(() => undefined);
    },
  };
}
