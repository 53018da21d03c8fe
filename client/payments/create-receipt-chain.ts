import { PaymentMismatch } from './payment-mismatch';

/** What one PAYMENT-RESPONSE says: this call's charge, and the channel's cumulative charge right after its commit. */
export type ChainReceipt = { requestId: string; charged: bigint; cumulative: bigint };

export type ReceiptChain = {
  /** A point of the channel's charge history the payer trusts: its start, the end of a contiguous run of receipts, or an adopted resync. */
  readonly anchor: bigint;
  /** The payer's confirmed view of what is charged: the anchor plus every receipt above it. */
  readonly confirmed: bigint;
  /** Charges the receipts above the anchor imply but do not account for: only calls still unsettled may explain them. */
  readonly unexplained: bigint;
  /**
   * Adds a call's receipt. `allowance` is what the payer's other unsettled calls could have been charged (the sum of
   * their ceilings): the history may have gaps that large and no larger. A receipt seen before is a `replay` (the
   * gateway answered a retried request from its stored receipt: no new charge); one below the anchor was already
   * counted in an adopted resync.
   * @throws {PaymentMismatch} when the receipt contradicts the others or the gaps exceed the allowance
   */
  add(receipt: ChainReceipt, allowance: bigint): 'new' | 'replay' | 'before_anchor';
  /** Re-checks the gaps against a smaller allowance (a call finished without a charge). @throws {PaymentMismatch} */
  check(allowance: bigint): void;
  /** Moves the anchor up to a charged total the gateway reported (≥ confirmed); returns how much the view grew. @throws {PaymentMismatch} */
  adopt(charged: bigint): bigint;
};

/** How many request ids are remembered to tell a replayed receipt from a new one (about 100 bytes each). */
const REMEMBERED_RECEIPTS = 100_000;
/** How many adopted stretches are kept for late receipts of calls that were in flight at a resync. */
const REMEMBERED_STRETCHES = 64;

type Stretch = { lo: bigint; hi: bigint; inside: ChainReceipt[] };

/**
 * The payer's exact check of the gateway's receipts (issue #11 §4). The gateway's ledger serializes commits, so its
 * charge history is a chain: each commit moves the cumulative charge from `cumulative − charged` to `cumulative`, and
 * no two commits cover the same stretch. Receipts of concurrent calls arrive in any order; each is placed on that
 * history as the interval (cumulative − charged, cumulative]. They must not overlap one another, must not straddle the
 * anchor, and the gaps between them (commits whose receipts have not arrived yet) must fit in what the calls still in
 * flight could be charged. When nothing is in flight the chain must be contiguous from the anchor: every unit the
 * gateway says it charged is a receipt the payer has checked against its call's ceiling.
 *
 * An adopted resync is a stretch the payer cannot itemize (the gateway's snapshot counts commits whose receipts may
 * still arrive): a late receipt must fall inside such a stretch, never on history receipts already account for.
 */
export function createReceiptChain(start: bigint): ReceiptChain {
  let anchor = start;
  /** Receipts above the anchor, not yet joined to it by a contiguous run. */
  const above = new Map<string, ChainReceipt>();
  const seen = new Map<string, ChainReceipt>();
  /** History below the anchor that no receipt itemizes: before the payer's start, and each adopted resync. */
  const stretches: Stretch[] = start > 0n ? [{ lo: 0n, hi: start, inside: [] }] : [];

  const sumAbove = () => [...above.values()].reduce((n, r) => n + r.charged, 0n);
  const unexplained = () => {
    let top = anchor;
    for (const r of above.values()) if (r.cumulative > top) top = r.cumulative;
    return top - anchor - sumAbove();
  };
  /** Joins receipts that start at the anchor, so the anchor advances and `above` holds only what lies past a gap. */
  const compact = () => {
    for (let moved = true; moved;) {
      moved = false;
      for (const [id, r] of above) {
        if (r.cumulative - r.charged !== anchor) continue;
        above.delete(id);
        anchor = r.cumulative;
        moved = true;
      }
    }
  };
  const checkGaps = (allowance: bigint) => {
    const gap = unexplained();
    if (gap > allowance) {
      throw new PaymentMismatch('extra.channelState.charged', `the gateway's charges jumped by ${gap} beyond the receipts of this payer's calls (its unsettled calls can explain at most ${allowance})`);
    }
  };
  const span = (r: ChainReceipt) => `(${r.cumulative - r.charged}, ${r.cumulative}]`;
  const checkDisjoint = (receipt: ChainReceipt, others: Iterable<ChainReceipt>) => {
    const from = receipt.cumulative - receipt.charged;
    for (const other of others) {
      const otherFrom = other.cumulative - other.charged;
      // Two commits never cover the same stretch, and no commit ends strictly inside another.
      const overlap = receipt.charged > 0n && other.charged > 0n
        ? from < other.cumulative && otherFrom < receipt.cumulative
        : (receipt.charged === 0n && otherFrom < receipt.cumulative && receipt.cumulative < other.cumulative)
          || (other.charged === 0n && from < other.cumulative && other.cumulative < receipt.cumulative);
      if (overlap) throw new PaymentMismatch('extra.channelState.charged', `this call's charge ${span(receipt)} overlaps another call's ${span(other)}: the gateway counted a stretch twice`);
    }
  };

  const place = (receipt: ChainReceipt, allowance: bigint): 'new' | 'before_anchor' => {
    const { charged, cumulative } = receipt;
    const from = cumulative - charged;
    if (cumulative > anchor) {
      if (from < anchor) throw new PaymentMismatch('extra.channelState.charged', `this call's charge ${span(receipt)} straddles the confirmed total ${anchor}`);
      checkDisjoint(receipt, above.values());
      const saved = { anchor, above: [...above] };
      above.set(receipt.requestId, receipt);
      compact();
      try {
        checkGaps(allowance);
      } catch (err) {
        // The chain stays as it was before this receipt; the caller stops the payer with this error.
        anchor = saved.anchor;
        above.clear();
        for (const [id, r] of saved.above) above.set(id, r);
        throw err;
      }
      return 'new';
    }
    if (charged === 0n) return 'new'; // a free call at a point already passed: nothing to place
    const stretch = stretches.find((s) => s.lo <= from && cumulative <= s.hi);
    if (!stretch) throw new PaymentMismatch('extra.channelState.charged', `this call's charge ${span(receipt)} lies on history other receipts already account for`);
    checkDisjoint(receipt, stretch.inside);
    if (stretch.inside.reduce((n, r) => n + r.charged, charged) > stretch.hi - stretch.lo) {
      throw new PaymentMismatch('extra.channelState.charged', `the receipts inside the resynced stretch (${stretch.lo}, ${stretch.hi}] add up to more than it`);
    }
    stretch.inside.push(receipt);
    return 'before_anchor';
  };

  return {
    get anchor() {
      return anchor;
    },
    get confirmed() {
      return anchor + sumAbove();
    },
    get unexplained() {
      return unexplained();
    },
    add(receipt, allowance) {
      const { requestId, charged, cumulative } = receipt;
      if (charged < 0n || cumulative < charged) throw new PaymentMismatch('extra.channelState.charged', `the cumulative charge ${cumulative} is below this call's charge ${charged}`);
      const before = seen.get(requestId);
      if (before) {
        if (before.charged === charged && before.cumulative === cumulative) return 'replay';
        throw new PaymentMismatch('extra.requestId', `request ${requestId} was already settled with another charge`);
      }
      const placed = place(receipt, allowance);
      // Also when nothing was placed above the anchor: this call no longer counts toward the allowance.
      checkGaps(allowance);
      seen.set(requestId, receipt);
      if (seen.size > REMEMBERED_RECEIPTS) seen.delete(seen.keys().next().value!);
      return placed;
    },
    check: checkGaps,
    adopt(charged) {
      const was = anchor + sumAbove();
      if (charged < was) throw new RangeError(`adopt: ${charged} is below the confirmed ${was}`);
      const inside: ChainReceipt[] = [];
      for (const r of above.values()) {
        if (r.cumulative <= charged) inside.push(r);
        else if (r.cumulative - r.charged < charged) {
          throw new PaymentMismatch('extra.channelState.charged', `the reported total ${charged} falls inside a call's charge ${span(r)}`);
        }
      }
      for (const r of inside) above.delete(r.requestId);
      if (charged > anchor) {
        stretches.push({ lo: anchor, hi: charged, inside });
        if (stretches.length > REMEMBERED_STRETCHES) stretches.shift();
      }
      anchor = charged;
      compact();
      return anchor + sumAbove() - was;
    },
  };
}
