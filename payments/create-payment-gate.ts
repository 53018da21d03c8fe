import { getAddress, type Address } from 'viem';
import type { ChannelState, PaymentChannelsDeployment } from '../chain';
import { PAYMENT_CHANNELS_DOMAIN_NAME, PAYMENT_CHANNELS_DOMAIN_VERSION } from '../chain';
import { PaymentError, type PaymentErrorCode } from './payment-error';
import type { LedgerChannel, PaymentLedger, PaymentReceipt } from './payment-ledger';
import { createReservationLeases, type ReservationLeases } from './create-reservation-leases';
import { verifyVoucher } from './verify-voucher';
import {
  decodePaymentPayload, VEIL_CHANNEL_SCHEME, X402_VERSION,
  type ChannelStateView, type PaymentRequired, type PaymentRequirements, type SettlementResponse, type SignedUsage,
} from './x402-messages';

export type PaymentGateOptions = {
  ledger: PaymentLedger;
  deployment: PaymentChannelsDeployment;
  /** This gateway's receiving address and the token it takes. */
  receiver: Address;
  token: Address;
  /** Shortest channel withdraw delay accepted: the time the settlement worker has to claim after a payer starts leaving. */
  minWithdrawDelaySeconds: number;
  /** A channel's on-chain state at a confirmed block (chain `getChannel`); throws when the chain cannot be read. */
  readChannel(channelId: `0x${string}`): Promise<ChannelState & { block: bigint }>;
  /** Unix ms (default Date.now). */
  now?: () => number;
  /** The longest a call's reservation is held (renewed while it runs); default 10 min. */
  reservationTtlMs?: number;
  /** How long a reservation outlives its gateway's last renewal (a replica that dies mid-call frees it after this). */
  reservationLeaseMs?: number;
  /** Shared leases (the budget gate's too), instead of the gate's own. */
  leases?: ReservationLeases;
  /** How long a chain read of a channel's authorizer and deposit is trusted before it is read again. */
  chainCacheMs?: number;
};

/** One call's payment, admitted: commit the actual cost after the work succeeded, or release it if it failed. */
export type PaidAdmission = {
  kind: 'paid';
  channelId: string;
  payer: Address;
  ceiling: bigint;
  /**
   * Charges `actual` (clamped to the ceiling by the caller's price, refused above it) and returns the x402 receipt;
   * `usage`, the enclave's signed counts the charge was computed from, rides in the receipt for the payer to check.
   */
  commit(actual: bigint, usage?: SignedUsage): Promise<{ receipt: PaymentReceipt; response: SettlementResponse }>;
  release(): Promise<void>;
};

/** The same request id was already served and charged: answer from the stored receipt, never charge again. */
export type ReplayedAdmission = { kind: 'replay'; receipt: PaymentReceipt; response: SettlementResponse };

export type PaymentGate = {
  /** The PAYMENT-REQUIRED a call of `resource` with this ceiling answers when unpaid. */
  requirements(resource: string, ceiling: bigint, error?: string, channel?: LedgerChannel): PaymentRequired;
  /**
   * Admits one call: decodes and verifies the client's PAYMENT-SIGNATURE, checks the channel's authorizer and deposit
   * against the chain, and reserves `ceiling` in the ledger. Refusals are PaymentErrors carrying the PaymentRequired
   * to answer with (a corrective one, with the channel's state, when the voucher does not cover the call).
   */
  admit(call: { requestId: string; resource: string; ceiling: bigint; header: string | undefined }): Promise<PaidAdmission | ReplayedAdmission>;
};

/**
 * Admission and charging for paid calls (issue #11 §2), shared by gRPC and HTTP: x402 v2 messages, `veil-channel`
 * vouchers verified locally with libsecp256k1, and the ledger's reservation rules (payments/payment-ledger.ts).
 * Calls on one channel run concurrently: each reservation holds its ceiling, so the voucher must cover everything
 * charged and in flight; a client that lost track gets a corrective 402 with the channel's state.
 */
export function createPaymentGate(options: PaymentGateOptions): PaymentGate {
  const { ledger, deployment } = options;
  const now = options.now ?? Date.now;
  const ttl = options.reservationTtlMs ?? 10 * 60_000;
  const leases = options.leases ?? createReservationLeases({ ledger, maxMs: ttl, leaseMs: options.reservationLeaseMs, now });
  const cacheMs = options.chainCacheMs ?? 5_000;
  const network = `eip155:${deployment.chainId}`;
  const receiver = getAddress(options.receiver);
  const token = getAddress(options.token);
  const chainCache = new Map<string, { state: ChannelState & { block: bigint }; at: number }>();

  const requirements = (resource: string, ceiling: bigint, error?: string, channel?: LedgerChannel): PaymentRequired => {
    const accepts: PaymentRequirements = {
      scheme: VEIL_CHANNEL_SCHEME, network, amount: ceiling.toString(), asset: token, payTo: receiver, maxTimeoutSeconds: Math.ceil(ttl / 1000),
      extra: {
        contract: deployment.contractAddress,
        domain: { name: PAYMENT_CHANNELS_DOMAIN_NAME, version: PAYMENT_CHANNELS_DOMAIN_VERSION },
        minWithdrawDelay: options.minWithdrawDelaySeconds,
        ...(channel ? { channelState: view(channel) } : {}),
      },
    };
    return { x402Version: X402_VERSION, ...(error ? { error } : {}), resource: { url: resource }, accepts: [accepts] };
  };

  const refuse = (code: PaymentErrorCode, message: string, resource: string, ceiling: bigint, channel?: LedgerChannel): never => {
    throw new PaymentError(code, message, requirements(resource, ceiling, code, channel));
  };

  const chainState = async (channelId: `0x${string}`, fresh: boolean) => {
    const cached = chainCache.get(channelId);
    if (cached && !fresh && now() - cached.at < cacheMs) return cached.state;
    let state: ChannelState & { block: bigint };
    try {
      state = await options.readChannel(channelId);
    } catch {
      throw new PaymentError('payment_unavailable', 'the payment chain cannot be read right now; retry shortly');
    }
    chainCache.set(channelId, { state, at: now() });
    if (chainCache.size > 10_000) chainCache.delete(chainCache.keys().next().value!);
    return state;
  };

  /** The contract's `_isAuthorizer`: the current key, or during a rotation the new key and, until it completes, the old. */
  const mayAuthorize = (state: ChannelState, signer: Address) => {
    const zero = '0x0000000000000000000000000000000000000000';
    // Lower-case compares: the chain's addresses and the signer are well-formed already (no checksum keccak per call).
    const who = signer.toLowerCase();
    const pending = state.pendingAuthorizer.toLowerCase();
    if (pending === zero) return state.authorizer.toLowerCase() === who;
    if (pending === who) return true;
    return BigInt(Math.floor(now() / 1000)) < state.rotationReadyAt && state.authorizer.toLowerCase() === who;
  };

  return {
    requirements,

    async admit({ requestId, resource, ceiling, header }) {
      if (header === undefined || header === '') refuse('payment_required', `this call costs up to ${ceiling} atomic units: send a PAYMENT-SIGNATURE`, resource, ceiling);
      const payload = decodePaymentPayload(header!);
      if (payload.accepted.network !== network) refuse('voucher_wrong_network', `this gateway takes payments on ${network}`, resource, ceiling);
      const payment = payload.payload;
      const verified = verifyVoucher({ ...deployment, payment, receiver, token, minWithdrawDelay: options.minWithdrawDelaySeconds });

      let state = await chainState(verified.channelId, false);
      if (!state.open && !state.closed) state = await chainState(verified.channelId, true); // a deposit just confirmed
      if (!state.open && !state.closed) refuse('channel_not_found', 'the channel has no confirmed deposit on chain yet', resource, ceiling);
      if (!mayAuthorize(state, verified.signer)) {
        state = await chainState(verified.channelId, true); // a rotation may have completed since the cached read
        if (!mayAuthorize(state, verified.signer)) refuse('voucher_signature_invalid', 'the voucher is not signed by the channel\'s authorizer', resource, ceiling);
      }

      const reserve = () => ledger.reserve({
        requestId, channelId: verified.channelId, config: payment.config, voucher: { maxClaimableAmount: verified.maxClaimableAmount, signature: payment.voucher.signature },
        ceiling, resource, at: now(), expiresAt: leases.expiresAt(),
      });
      const mirror = (s: ChannelState & { block: bigint }) => ledger.updateOnchain(verified.channelId, payment.config, {
        deposited: s.deposited, claimed: s.claimed, withdrawReadyAt: Number(s.withdrawReadyAt), closed: s.closed, authorizer: s.authorizer, block: s.block,
      });
      let result = await reserve();
      if (result.kind === 'channel_unknown' || result.kind === 'insufficient_deposit') {
        // First sight of the channel, or a top-up the ledger has not mirrored yet: read the chain once and retry.
        await mirror(result.kind === 'channel_unknown' ? state : await chainState(verified.channelId, true));
        result = await reserve();
      }
      switch (result.kind) {
        case 'reserved':
          break;
        case 'replay':
          return { kind: 'replay', receipt: result.receipt, response: settlement(result.receipt, payment.config.payer, undefined) };
        case 'busy':
          throw new PaymentError('payment_in_progress', 'this request id is already running; wait for its answer');
        case 'insufficient_voucher':
          refuse('voucher_insufficient', `the voucher must cover ${result.required} (charged + in flight + this call's ceiling); resync from extra.channelState`, resource, ceiling, result.channel);
          break;
        case 'insufficient_deposit':
          refuse('deposit_insufficient', `the channel's deposit cannot cover ${result.required}: top it up`, resource, ceiling, result.channel);
          break;
        case 'channel_closing':
          refuse('channel_closing', 'the channel is closing (a withdrawal is pending or it is closed): open a new one', resource, ceiling, result.channel);
          break;
        case 'channel_unknown':
          refuse('channel_not_found', 'the channel is not known on chain', resource, ceiling);
      }
      const reserved = result as Extract<typeof result, { kind: 'reserved' }>;
      leases.hold(reserved.reservationId);
      let done = false;
      return {
        kind: 'paid',
        channelId: verified.channelId,
        payer: payment.config.payer,
        ceiling,
        async commit(actual, usage) {
          if (done) throw new Error('this admission was already committed or released');
          if (actual < 0n || actual > ceiling) throw new RangeError(`the actual cost ${actual} is outside 0..${ceiling}`);
          done = true;
          const receipt = await ledger.commit(reserved.reservationId, actual, now()).finally(() => leases.drop(reserved.reservationId));
          const response = settlement(receipt, payment.config.payer, reserved.channel);
          return { receipt, response: usage ? { ...response, extra: { ...response.extra, usage } } : response };
        },
        async release() {
          if (done) return;
          done = true;
          await ledger.release(reserved.reservationId).finally(() => leases.drop(reserved.reservationId));
        },
      };
    },
  };

  /**
   * The receipt's `channelState.charged` is the cumulative charge right after THIS call's commit (the receipt's), not
   * the ledger's total when it is read afterwards: calls on one channel commit concurrently, and a later read would
   * include other calls' charges, so the payer could not check that the total grew by exactly this call's charge.
   * The other fields (reserved, signedMax, deposited) are informational and come from the channel as this call was
   * admitted, so committing costs no second ledger read.
   */
  function settlement(receipt: PaymentReceipt, payer: Address, channel: LedgerChannel | undefined): SettlementResponse {
    const state: ChannelStateView = channel
      ? { ...view(channel), charged: receipt.cumulative.toString() }
      : { channelId: receipt.channelId as `0x${string}`, charged: receipt.cumulative.toString(), reserved: '0', signedMax: receipt.voucherMax.toString(), deposited: '0' };
    return { success: true, transaction: '', network, payer, extra: { requestId: receipt.requestId, chargedAmount: receipt.charged.toString(), channelState: state } };
  }
}

function view(channel: LedgerChannel): ChannelStateView {
  return {
    channelId: channel.channelId as `0x${string}`, charged: channel.charged.toString(), reserved: channel.reserved.toString(),
    signedMax: channel.signedMax.toString(), deposited: channel.deposited.toString(),
  };
}
