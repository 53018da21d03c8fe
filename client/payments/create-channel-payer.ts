import { randomBytes } from 'node:crypto';
import { getAddress, isAddress, type Address, type Hex, type LocalAccount } from 'viem';
import {
  channelId as channelIdOf, depositChannel, getChannel, PAYMENT_CHANNELS_DOMAIN_NAME, PAYMENT_CHANNELS_DOMAIN_VERSION, signVoucher, topUpChannel,
  type ChannelConfig, type RegistryPublicClient, type RegistryWalletClient,
} from '../../chain';
import { decodeX402, encodeX402, VEIL_CHANNEL_SCHEME, X402_VERSION, type PaymentRequired, type PaymentRequirements, type SettlementResponse } from '../../payments';
import { createReceiptChain, type ReceiptChain } from './create-receipt-chain';
import { PayerError } from './payer-error';
import { PaymentMismatch } from './payment-mismatch';

export type ChannelPayerOptions = {
  publicClient: RegistryPublicClient;
  /** The payer's wallet: it funds the channel and is the config's `payer` (the only one who can withdraw). */
  walletClient: RegistryWalletClient;
  /**
   * The channel's authorizer: signs the vouchers. A hot key with no funds; the wallet's key never signs a voucher.
   * `createSessionKey()` signs with native libsecp256k1 (~0.25 ms a voucher instead of ~0.75 ms with viem's signer).
   */
  sessionKey: LocalAccount;
  contractAddress: Address;
  /** The gateway's receiving address and the token it takes: requirements naming anything else are refused. */
  receiver: Address;
  token: Address;
  /** Seconds the payer's exit waits (the gateway refuses a channel shorter than its `extra.minWithdrawDelay`). */
  withdrawDelay: number;
  /** 32 bytes; a fresh random one (a new channel) when absent. The same salt and keys resume the same channel. */
  salt?: Hex;
  /**
   * Resuming a channel: the highest voucher its session key signed in an earlier run (the caller keeps it). A resync
   * may then adopt charges up to it; without it, only what the chain already paid out counts as signed.
   */
  previouslySigned?: bigint;
  /** The first deposit, in token atomic units, sent when the channel is opened on first use. */
  deposit: bigint;
  /**
   * When set, a call the remaining deposit cannot cover first tops the channel up by this amount (one step per
   * shortfall; a call short by more than one step is refused, so no ceiling can pull the wallet into the channel).
   */
  autoTopUp?: bigint;
  /** The highest ceiling one call may ask for. */
  maxPerCall?: bigint;
  /** The most this payer authorizes in total on the channel (every voucher counts its calls in flight at their ceiling). */
  maxSpend?: bigint;
};

/**
 * What the caller knows a call may cost beyond its ceiling: `maxCharge`, e.g. the quoted prices × the enclave's signed
 * usage (a TEE call's ceiling is its whole context window, far above what it uses). A receipt above it is a mismatch.
 */
export type ChargeCheck = { maxCharge?: bigint; because?: string };

/** One call being paid: pass it to settle() with the gateway's PAYMENT-RESPONSE, or to fail() when the call failed. */
export type CallHandle = { readonly id: number; readonly ceiling: bigint; readonly voucherMax: bigint };
export type PaidCall = { /** The PAYMENT-SIGNATURE header value. */ header: string; handle: CallHandle };
export type SettledCall = { requestId: string; charged: bigint; cumulative: bigint; replay: boolean };
export type ResyncResult = {
  /** Whether the gateway's total was adopted (it was ≥ the payer's confirmed view and ≤ what it ever signed). */
  adopted: boolean;
  /** How much the payer's confirmed view grew: charges it had lost track of (or of calls still in flight). */
  lost: bigint;
  /** The confirmed view after the resync. */
  confirmed: bigint;
};
export type PayerStatus = {
  channelId: Hex;
  config: ChannelConfig;
  network: string;
  opened: boolean;
  /** The channel's on-chain deposit (cumulative), as last read or sent by this payer. */
  deposited: bigint;
  /** What the payer has confirmed the gateway charged (cumulative on the channel). */
  confirmed: bigint;
  /** The ceilings of the calls in flight. */
  inFlight: bigint;
  inFlightCalls: number;
  /**
   * Reserved on the gateway for calls of this payer that never answered (a replica that crashed mid-call), as a
   * corrective 402 reported it: every voucher covers it until a receipt or a resync shows it expired.
   */
  held: bigint;
  /** The highest voucher ever signed: the most the receiver can claim. */
  signedMax: bigint;
  /** What this payer authorized beyond the channel's state when it started (the budget counts this). */
  spent: bigint;
  stopped?: { field: string; message: string };
};

export type ChannelPayer = {
  readonly channelId: Hex;
  readonly config: ChannelConfig;
  /** CAIP-2 network of the channel, e.g. `eip155:31337`. */
  readonly network: string;
  /** Why these requirements cannot be paid by this payer, or undefined when they can. */
  refusal(requirements: PaymentRequirements): string | undefined;
  /** Opens the channel (first deposit) if it is not open yet; pay() does this on first use. */
  open(): Promise<PayerStatus>;
  /** Adds `amount` to the channel's deposit. */
  topUp(amount: bigint): Promise<PayerStatus>;
  /**
   * Signs a voucher for this call: the confirmed charges + the ceilings of the calls in flight + this call's ceiling.
   * @throws {PayerError} `requirements_refused`, `ceiling_above_max_per_call`, `budget_exceeded`, `deposit_insufficient`, `channel_closing`, `payer_stopped`
   */
  pay(requirements: PaymentRequirements): Promise<PaidCall>;
  /**
   * Checks the gateway's PAYMENT-RESPONSE for a call against the payer's own view and confirms its charge.
   * @throws {PaymentMismatch} (and the payer stops) when the receipt is not what the payer authorized
   */
  settle(handle: CallHandle, paymentResponseHeader: string, check?: ChargeCheck): SettledCall;
  /**
   * Releases a call's ceiling: the call failed without a charge (the gateway answered an error without a receipt).
   * `uncertain`: no answer came at all (a network error), so the gateway may have charged it; its ceiling then stays
   * an allowance for an unexplained charge until the next resync.
   * @throws {PaymentMismatch} when, without this call, the receipts already settled imply charges nothing explains
   */
  fail(handle: CallHandle, options?: { uncertain?: boolean }): void;
  /** Adopts a corrective 402's `extra.channelState.charged` when it is ≥ the confirmed view and ≤ what the payer ever signed. @throws {PaymentMismatch} */
  resync(paymentRequired: PaymentRequired): ResyncResult;
  status(): PayerStatus;
};

const UINT = /^(0|[1-9][0-9]{0,38})$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const MAX_UINT128 = (1n << 128n) - 1n;

/**
 * The SDK's side of per-call billing (issue #11 §4): one payment channel, opened and topped up from the payer's
 * wallet, paying each call with a cumulative voucher signed by the session key, and checking every receipt.
 *
 * Money rules: a voucher never exceeds the deposit, the budget, or confirmed + in flight + this call's ceiling; a
 * receipt is accepted only if its charge is ≤ its call's ceiling and it fits the chain of receipts exactly
 * (createReceiptChain); a corrective 402 is adopted only within what the payer signed. Calls run concurrently: each
 * voucher covers every call in flight, so the gateway's reservations always fit. No voucher signature or key is ever
 * logged or put in an error message.
 *
 * @example
 * const payer = createChannelPayer({ publicClient, walletClient, sessionKey, contractAddress, receiver, token, withdrawDelay: 86_400, deposit: 1_000_000n })
 * const { header, handle } = await payer.pay(paymentRequired.accepts[0])   // → PAYMENT-SIGNATURE
 * payer.settle(handle, response.headers.get('payment-response'))
 */
export function createChannelPayer(options: ChannelPayerOptions): ChannelPayer {
  const { publicClient, walletClient, sessionKey, deposit, autoTopUp, maxPerCall, maxSpend } = options;
  if (deposit <= 0n) throw new RangeError('deposit: must be positive');
  if (autoTopUp !== undefined && autoTopUp <= 0n) throw new RangeError('autoTopUp: must be positive');
  if (maxPerCall !== undefined && maxPerCall < 0n) throw new RangeError('maxPerCall: must not be negative');
  if (maxSpend !== undefined && maxSpend < 0n) throw new RangeError('maxSpend: must not be negative');
  const chainId = walletClient.chain.id;
  const network = `eip155:${chainId}`;
  const contractAddress = getAddress(options.contractAddress);
  const config: ChannelConfig = {
    payer: getAddress(walletClient.account.address),
    payerAuthorizer: getAddress(sessionKey.address),
    receiver: getAddress(options.receiver),
    token: getAddress(options.token),
    withdrawDelay: options.withdrawDelay,
    salt: (options.salt ?? (`0x${randomBytes(32).toString('hex')}` as Hex)).toLowerCase() as Hex,
  };
  const channelId = channelIdOf({ chainId, contractAddress, config });

  let chain: ReceiptChain | undefined;
  let startCharged = 0n;
  let deposited = 0n;
  let signedMax = 0n;
  let uncertain = 0n;
  /** Reserved on the gateway for calls of this payer that never answered (a crashed replica's): vouchers cover it. */
  let held = 0n;
  let stopped: PaymentMismatch | undefined;
  let nextId = 0;
  const inFlight = new Map<number, CallHandle>();
  /** The sum of the ceilings in `inFlight`, kept beside it (every voucher needs it). */
  let inFlightTotal = 0n;
  const track = (handle: CallHandle) => {
    inFlight.set(handle.id, handle);
    inFlightTotal += handle.ceiling;
  };
  /** Drops a call by id; the ceiling is the one recorded when it was paid, never the caller's copy. */
  const untrack = (handle: CallHandle): CallHandle | undefined => {
    const call = inFlight.get(handle.id);
    if (!call) return undefined;
    inFlight.delete(call.id);
    inFlightTotal -= call.ceiling;
    return call;
  };
  let opening: Promise<void> | undefined;
  let chainOps: Promise<unknown> = Promise.resolve();
  /** Deposits and top-ups one at a time: they spend from one wallet and would race for its nonce. */
  const serialChainOp = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chainOps.then(fn);
    chainOps = run.catch(() => undefined);
    return run;
  };
  const inFlightSum = () => inFlightTotal;

  const stop = (err: PaymentMismatch): never => {
    stopped ??= err;
    throw err;
  };

  /** The contract's rule (as the gate applies it): the current key, or during a rotation the new key and, until it completes, the old. */
  const mayAuthorize = async (state: Awaited<ReturnType<typeof getChannel>>) => {
    const me = config.payerAuthorizer;
    const pending = getAddress(state.pendingAuthorizer);
    if (pending === '0x0000000000000000000000000000000000000000') return getAddress(state.authorizer) === me;
    if (pending === me) return true;
    const { timestamp } = await publicClient.getBlock({ blockTag: 'latest' });
    return getAddress(state.authorizer) === me && timestamp < state.rotationReadyAt;
  };

  const open = (): Promise<void> => {
    opening ??= serialChainOp(async () => {
      const state = await getChannel(publicClient, { contractAddress, config });
      if (state.closed || state.withdrawReadyAt !== 0n) throw new PayerError('channel_closing', `channel ${channelId} is closing or closed: use another salt`);
      if (state.open && !(await mayAuthorize(state))) {
        throw new PayerError('session_key_not_authorizer', `channel ${channelId} is authorized by another key now (rotated): its vouchers would be refused`);
      }
      if (state.open) {
        // Resuming a channel: what the chain paid out was claimed with a voucher of this channel's authorizer, so it
        // is history the payer signed for; anything the gateway charged beyond it comes back through a resync.
        startCharged = state.claimed;
        signedMax = options.previouslySigned !== undefined && options.previouslySigned > state.claimed ? options.previouslySigned : state.claimed;
        deposited = state.deposited;
      } else {
        await depositChannel(walletClient, publicClient, { contractAddress, config, amount: deposit });
        deposited = deposit;
      }
      chain = createReceiptChain(startCharged);
    }).catch((err: unknown) => {
      opening = undefined; // a failed open may be retried by the next call
      throw err;
    });
    return opening;
  };

  /** Tops up to `target`, by exactly `step` when given (an auto top-up) or by the shortfall. */
  const topUpTo = (target: bigint, step: bigint | undefined) => serialChainOp(async () => {
    if (deposited >= target) return; // another call's top-up already covers it
    const amount = step ?? target - deposited;
    try {
      await topUpChannel(walletClient, publicClient, { contractAddress, config, amount });
    } catch (err) {
      throw new PayerError('deposit_insufficient', `topping the channel up by ${amount} failed`, { cause: err });
    }
    deposited += amount;
  });

  const refusal = (r: PaymentRequirements): string | undefined => {
    if (r === null || typeof r !== 'object') return 'the requirements are not an object';
    if (r.scheme !== VEIL_CHANNEL_SCHEME) return `scheme ${JSON.stringify(String(r.scheme).slice(0, 40))} is not ${VEIL_CHANNEL_SCHEME}`;
    if (r.network !== network) return `network ${JSON.stringify(String(r.network).slice(0, 40))} is not this channel's ${network}`;
    const same = (value: unknown, want: Address) => typeof value === 'string' && isAddress(value, { strict: false }) && getAddress(value) === want;
    if (!same(r.payTo, config.receiver)) return `payTo is not this channel's receiver ${config.receiver}`;
    if (!same(r.asset, config.token)) return `asset is not this channel's token ${config.token}`;
    if (!same(r.extra?.contract, contractAddress)) return `extra.contract is not this channel's contract ${contractAddress}`;
    if (r.extra.domain?.name !== PAYMENT_CHANNELS_DOMAIN_NAME || r.extra.domain?.version !== PAYMENT_CHANNELS_DOMAIN_VERSION) {
      return `extra.domain is not ${PAYMENT_CHANNELS_DOMAIN_NAME} ${PAYMENT_CHANNELS_DOMAIN_VERSION}`;
    }
    if (typeof r.extra.minWithdrawDelay === 'number' && r.extra.minWithdrawDelay > config.withdrawDelay) {
      return `the gateway needs a withdraw delay of at least ${r.extra.minWithdrawDelay} s; this channel's is ${config.withdrawDelay} s`;
    }
    if (typeof r.amount !== 'string' || !UINT.test(r.amount) || BigInt(r.amount) > MAX_UINT128) return 'amount is not a decimal uint128 string';
    return undefined;
  };

  const status = (): PayerStatus => {
    const confirmed = chain?.confirmed ?? startCharged;
    return {
      channelId, config, network, opened: chain !== undefined, deposited, confirmed, inFlight: inFlightSum(), inFlightCalls: inFlight.size, held, signedMax,
      spent: confirmed - startCharged,
      ...(stopped ? { stopped: { field: stopped.field, message: stopped.message } } : {}),
    };
  };

  const refuseStopped = () => {
    if (stopped) throw new PayerError('payer_stopped', `this payer stopped paying on channel ${channelId}: ${stopped.message}`, { cause: stopped });
  };

  return {
    channelId,
    config,
    network,
    refusal,
    async open() {
      await open();
      return status();
    },
    async topUp(amount) {
      if (amount <= 0n) throw new RangeError('amount: must be positive');
      await open();
      await topUpTo(deposited + amount, undefined);
      return status();
    },

    async pay(requirements) {
      refuseStopped();
      const why = refusal(requirements);
      if (why) throw new PayerError('requirements_refused', `refusing to pay: ${why}`);
      const ceiling = BigInt(requirements.amount);
      if (maxPerCall !== undefined && ceiling > maxPerCall) throw new PayerError('ceiling_above_max_per_call', `this call's ceiling ${ceiling} is above the per-call maximum ${maxPerCall}`);
      await open();
      for (;;) {
        refuseStopped();
        const needed = chain!.confirmed + inFlightSum() + held + ceiling;
        if (maxSpend !== undefined && needed - startCharged > maxSpend) {
          throw new PayerError('budget_exceeded', `paying this call (ceiling ${ceiling}) could take the total to ${needed - startCharged}, above the budget ${maxSpend}`);
        }
        if (needed > deposited) {
          if (autoTopUp === undefined) throw new PayerError('deposit_insufficient', `the channel's deposit ${deposited} cannot cover ${needed}: top it up`);
          // One step at a time: a gateway asking for a huge ceiling must not pull the wallet into the channel.
          if (needed - deposited > autoTopUp) {
            throw new PayerError('deposit_insufficient', `the channel's deposit ${deposited} cannot cover ${needed}, and that is more than one auto top-up of ${autoTopUp}`);
          }
          await topUpTo(needed, autoTopUp);
          continue; // other calls may have started meanwhile: recompute
        }
        // Synchronously from the checks above: this call's ceiling is in flight before any other voucher is computed.
        const handle: CallHandle = Object.freeze({ id: ++nextId, ceiling, voucherMax: needed });
        track(handle);
        if (needed > signedMax) signedMax = needed;
        try {
          const voucher = await signVoucher(sessionKey, { chainId, contractAddress, channelId, maxClaimableAmount: needed });
          const header = encodeX402({ x402Version: X402_VERSION, accepted: { scheme: VEIL_CHANNEL_SCHEME, network }, payload: { config, voucher } });
          return { header, handle };
        } catch (err) {
          untrack(handle);
          throw err;
        }
      }
    },

    settle(callHandle, header, check) {
      const handle = inFlight.get(callHandle.id);
      if (!handle) throw new PayerError('call_not_in_flight', 'settle: this call is not in flight (unknown, or already settled or failed)');
      refuseStopped();
      const allowance = inFlightSum() - handle.ceiling + uncertain;
      const bad = (field: string, message: string): never => stop(new PaymentMismatch(field, message));
      let response: SettlementResponse;
      try {
        response = decodeX402<SettlementResponse>(header, 'PAYMENT-RESPONSE');
      } catch {
        return bad('PAYMENT-RESPONSE', 'is not base64-encoded JSON');
      }
      if (response === null || typeof response !== 'object') return bad('PAYMENT-RESPONSE', 'is not an object');
      if (response.success !== true) bad('success', 'the receipt does not report success');
      if (response.network !== network) bad('network', `the receipt is for ${String(response.network).slice(0, 40)}, not ${network}`);
      if (typeof response.payer === 'string' && (!isAddress(response.payer, { strict: false }) || getAddress(response.payer) !== config.payer)) bad('payer', 'the receipt names another payer');
      const extra = response.extra;
      if (extra === null || typeof extra !== 'object') return bad('extra', 'is missing');
      if (typeof extra.requestId !== 'string' || extra.requestId.length === 0 || extra.requestId.length > 256) bad('extra.requestId', 'is missing');
      if (typeof extra.chargedAmount !== 'string' || !UINT.test(extra.chargedAmount)) bad('extra.chargedAmount', 'is not a decimal amount');
      const state = extra.channelState;
      if (state === null || typeof state !== 'object') return bad('extra.channelState', 'is missing');
      if (typeof state.channelId !== 'string' || !BYTES32.test(state.channelId) || state.channelId.toLowerCase() !== channelId.toLowerCase()) {
        bad('extra.channelState.channelId', `the receipt is for another channel than ${channelId}`);
      }
      if (typeof state.charged !== 'string' || !UINT.test(state.charged)) bad('extra.channelState.charged', 'is not a decimal amount');
      const charged = BigInt(extra.chargedAmount);
      const cumulative = BigInt(state.charged);
      if (charged > handle.ceiling) bad('extra.chargedAmount', `the gateway charged ${charged}, above this call's ceiling ${handle.ceiling}`);
      if (check?.maxCharge !== undefined && charged > check.maxCharge) {
        bad('extra.chargedAmount', `the gateway charged ${charged}, more than ${check.because ?? 'this call may cost'} (${check.maxCharge})`);
      }
      if (cumulative > signedMax) bad('extra.channelState.charged', `the gateway reports ${cumulative} charged, more than any voucher this payer signed (${signedMax})`);
      if (held > 0n && typeof state.reserved === 'string' && UINT.test(state.reserved)) {
        // The channel's other reservations as this call was admitted: a held reservation that expired by then is not
        // held any more. An estimate that falls short only costs one corrective 402, which holds it again.
        const others = BigInt(state.reserved) - handle.ceiling;
        if (others < held) held = others > 0n ? others : 0n;
      }
      let placed: ReturnType<ReceiptChain['add']>;
      try {
        placed = chain!.add({ requestId: extra.requestId, charged, cumulative }, allowance);
      } catch (err) {
        if (err instanceof PaymentMismatch) stop(err);
        throw err;
      }
      untrack(handle);
      return { requestId: extra.requestId, charged: placed === 'replay' ? 0n : charged, cumulative, replay: placed === 'replay' };
    },

    fail(handle, { uncertain: maybeCharged = false } = {}) {
      const call = untrack(handle);
      if (!call) throw new PayerError('call_not_in_flight', 'fail: this call is not in flight (unknown, or already settled or failed)');
      if (maybeCharged) uncertain += call.ceiling;
      if (stopped || !chain) return;
      try {
        chain.check(inFlightSum() + uncertain);
      } catch (err) {
        if (err instanceof PaymentMismatch) stop(err);
        throw err;
      }
    },

    resync(paymentRequired) {
      const confirmed = chain?.confirmed ?? startCharged;
      const accepts = Array.isArray(paymentRequired?.accepts) ? paymentRequired.accepts : [];
      const state = accepts.map((a) => a?.extra?.channelState).find((s) => typeof s?.channelId === 'string' && s.channelId.toLowerCase() === channelId.toLowerCase());
      if (!state || !chain || stopped) return { adopted: false, lost: 0n, confirmed };
      if (typeof state.charged !== 'string' || !UINT.test(state.charged)) return stop(new PaymentMismatch('extra.channelState.charged', 'is not a decimal amount'));
      const charged = BigInt(state.charged);
      if (charged > signedMax) {
        return stop(new PaymentMismatch('extra.channelState.charged', `the gateway reports ${charged} charged, more than any voucher this payer signed (${signedMax})`));
      }
      if (charged < confirmed) return { adopted: false, lost: 0n, confirmed }; // a snapshot older than receipts already settled
      let lost: bigint;
      try {
        lost = chain.adopt(charged);
      } catch (err) {
        if (err instanceof PaymentMismatch) stop(err);
        throw err;
      }
      // A call cut by a crashed replica keeps its reservation until it expires, and the gateway wants every voucher to
      // cover it meanwhile. Which of the reservations are this payer's live calls cannot be told apart (some of those
      // in flight here are not admitted yet), so what is held is the reservations the gateway reports, up to the
      // ceilings of the calls that never answered: never more than the payer already risked on them.
      const reserved = typeof state.reserved === 'string' && UINT.test(state.reserved) ? BigInt(state.reserved) : 0n;
      const risked = uncertain + held;
      held = risked < reserved ? risked : reserved;
      uncertain = 0n; // the adopted total counts whatever the uncertain calls were charged before it
      return { adopted: true, lost, confirmed: chain.confirmed };
    },

    status,
  };
}
