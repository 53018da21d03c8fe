import type { ChannelConfig } from '../chain';
import { budgetChannelId } from './budget-channel';
import { PaymentError } from './payment-error';
import { createReservationLeases, type ReservationLeases } from './create-reservation-leases';
import type { PaymentLedger } from './payment-ledger';
import type { PaidAdmission, ReplayedAdmission } from './create-payment-gate';
import type { SettlementResponse } from './x402-messages';


const ZERO = '0x0000000000000000000000000000000000000000' as const;
const BUDGET_SIGNATURE = 'api-key-budget';

export type BudgetGateOptions = {
  ledger: PaymentLedger;
  receiver: `0x${string}`;
  token: `0x${string}`;
  now?: () => number;
  reservationTtlMs?: number;
  reservationLeaseMs?: number;
  leases?: ReservationLeases;
};

export type BudgetGate = {
  /**
   * Admits one call against an API key's budget, by the payment gate's own reservation rules: charged + in flight +
   * this ceiling must fit the budget. @throws {PaymentError} `budget_exhausted`
   */
  admit(call: { requestId: string; resource: string; ceiling: bigint; keyId: string; budget: bigint }): Promise<PaidAdmission | ReplayedAdmission>;
};

/**
 * API keys with budgets (issue #11 §2, the enterprise alternative without crypto): each key's budget is a channel of
 * the payment ledger that exists only there (`apikey:<id>`), its "deposit" and "voucher" both the budget, so a key's
 * calls are reserved, charged, replayed and released exactly as voucher-paid calls are — one set of rules, on SQLite
 * or shared across replicas on PostgreSQL. The settlement worker never claims these (there is nothing on chain);
 * the operator bills the key's owner from the ledger's charged total. A budget the operator changes in the keys file
 * applies to the next call: raising it adds room, lowering it below what is charged refuses new calls.
 */
export function createBudgetGate(options: BudgetGateOptions): BudgetGate {
  const { ledger } = options;
  const now = options.now ?? Date.now;
  const ttl = options.reservationTtlMs ?? 10 * 60_000;
  const leases = options.leases ?? createReservationLeases({ ledger, maxMs: ttl, leaseMs: options.reservationLeaseMs, now });
  /** The budget last written to the ledger per key: rewritten only when the keys file changed it. */
  const written = new Map<string, bigint>();

  const configOf = (keyId: string): ChannelConfig => ({
    payer: ZERO, payerAuthorizer: ZERO, receiver: options.receiver, token: options.token, withdrawDelay: 0,
    salt: `0x${Buffer.from(keyId.padEnd(32, '\0').slice(0, 32), 'latin1').toString('hex')}`,
  });

  return {
    async admit({ requestId, resource, ceiling, keyId, budget }) {
      const channelId = budgetChannelId(keyId);
      const config = configOf(keyId);
      const write = () => ledger.updateOnchain(channelId, config, {
        // A later "block" than any before, so the newest budget always applies.
        deposited: budget, claimed: 0n, withdrawReadyAt: 0, closed: false, authorizer: ZERO, block: BigInt(now()),
      });
      if (written.get(keyId) !== budget) {
        await write();
        written.set(keyId, budget);
      }
      const reserve = () => ledger.reserve({ requestId, channelId, config, voucher: { maxClaimableAmount: budget, signature: BUDGET_SIGNATURE }, ceiling, resource, at: now(), expiresAt: leases.expiresAt() });
      let result = await reserve();
      if (result.kind === 'channel_unknown') {
        // Another replica's gateway wrote it, or this process restarted with a fresh cache: write and retry once.
        await write();
        written.set(keyId, budget);
        result = await reserve();
      }
      switch (result.kind) {
        case 'reserved': {
          const reservationId = result.reservationId;
          leases.hold(reservationId);
          let done = false;
          return {
            kind: 'paid', channelId, payer: ZERO, ceiling,
            async commit(actual) {
              if (done) throw new Error('this admission was already committed or released');
              if (actual < 0n || actual > ceiling) throw new RangeError(`the actual cost ${actual} is outside 0..${ceiling}`);
              done = true;
              const receipt = await ledger.commit(reservationId, actual, now()).finally(() => leases.drop(reservationId));
              return { receipt, response: budgetReceipt(keyId, receipt.charged, receipt.cumulative, budget, requestId) };
            },
            async release() {
              if (done) return;
              done = true;
              await ledger.release(reservationId).finally(() => leases.drop(reservationId));
            },
          };
        }
        case 'replay':
          return { kind: 'replay', receipt: result.receipt, response: budgetReceipt(keyId, result.receipt.charged, result.receipt.cumulative, budget, requestId) };
        case 'busy':
          throw new PaymentError('payment_in_progress', 'this request id is already running; wait for its answer');
        default: {
          const charged = 'channel' in result ? result.channel.charged + result.channel.reserved : 0n;
          throw new PaymentError('budget_exhausted', `API key ${keyId} has ${budget > charged ? budget - charged : 0n} of its budget ${budget} left (charged and in flight), and this call may cost ${ceiling}`);
        }
      }
    },
  };
}

/** A budget call's receipt in the x402 shape (network `veil:api-key`), so clients read it like any PAYMENT-RESPONSE. */
function budgetReceipt(keyId: string, charged: bigint, cumulative: bigint, budget: bigint, requestId: string): SettlementResponse {
  return {
    success: true, transaction: '', network: 'veil:api-key', payer: ZERO,
    extra: { requestId, chargedAmount: charged.toString(), channelState: { channelId: budgetChannelId(keyId) as `0x${string}`, charged: cumulative.toString(), reserved: '0', signedMax: budget.toString(), deposited: budget.toString() } },
  };
}
