import type { Hex } from 'viem';
import type { ChannelEvent, ChannelState } from '../chain';
import type { PaymentLedger } from './payment-ledger';

export type ChannelMirrorOptions = {
  ledger: PaymentLedger;
  /** The chain head minus the confirmation depth (chain `confirmedBlock`). */
  confirmedBlock(): Promise<bigint>;
  /** The contract's events in an inclusive block range (chain `readChannelEvents`). */
  readEvents(fromBlock: bigint, toBlock: bigint): Promise<ChannelEvent[]>;
  /** A channel's state at a block (chain `getChannel` with `blockNumber`). */
  readChannel(channelId: Hex, block: bigint): Promise<ChannelState>;
  /** A payer started a withdrawal on a channel the ledger holds charges on: claim now (the settlement worker). */
  onWithdrawal(channelId: string): Promise<void>;
  /** Blocks per eth_getLogs call (public RPCs cap the range). */
  pageBlocks?: bigint;
  log?: (event: string, fields: Record<string, string | number | undefined>) => void;
};

export type ChannelMirror = {
  /** Applies every confirmed event since the last call; returns how many channels changed. */
  poll(): Promise<number>;
};

/**
 * Keeps the ledger's view of the chain current (issue #11 §3): deposits, top-ups, claims, withdrawals and closes of
 * the channels it bills, read only up to `confirmedBlock()` so a reorg shallower than the confirmation depth never
 * reaches the ledger. Each changed channel is re-read whole at the confirmed block (events say *that* it changed; the
 * state at a block says *what* it is, so a missed or duplicated event cannot skew it). A started withdrawal triggers
 * an immediate claim. Channels the ledger has never seen are skipped: the gate mirrors them on their first call.
 * The first poll starts at the confirmed head; a restarted gateway's channels are refreshed by the gate's chain reads.
 */
export function createChannelMirror(options: ChannelMirrorOptions): ChannelMirror {
  const { ledger } = options;
  const page = options.pageBlocks ?? 2_000n;
  const log = options.log ?? (() => undefined);
  let next: bigint | undefined;

  return {
    async poll() {
      const confirmed = await options.confirmedBlock();
      // From now on; earlier state came with each channel's first call.
      let from = next ?? confirmed + 1n;
      let changed = 0;
      while (from <= confirmed) {
        const to: bigint = from + page - 1n < confirmed ? from + page - 1n : confirmed;
        const events = await options.readEvents(from, to);
        const touched = new Map<string, bigint>();
        const withdrawals = new Set<string>();
        for (const e of events) {
          touched.set(e.channelId, e.blockNumber);
          if (e.eventName === 'WithdrawInitiated') withdrawals.add(e.channelId);
        }
        for (const [channelId] of touched) {
          const known = await ledger.channel(channelId);
          if (!known) continue;
          const state = await options.readChannel(channelId as Hex, to);
          await ledger.updateOnchain(channelId, known.config, {
            deposited: state.deposited, claimed: state.claimed, withdrawReadyAt: Number(state.withdrawReadyAt), closed: state.closed,
            authorizer: state.authorizer, block: to,
          });
          changed++;
          if (withdrawals.has(channelId) && known.charged > state.claimed) {
            log('payments withdrawal seen', { channel: channelId, unclaimed: (known.charged - state.claimed).toString() });
            await options.onWithdrawal(channelId);
          }
        }
        from = to + 1n;
        next = from;
      }
      next = from;
      return changed;
    },
  };
}
