import fc from 'fast-check';
import { createReceiptChain, type ChainReceipt } from './create-receipt-chain';
import { PaymentMismatch } from './payment-mismatch';

/** A serialized ledger's history: each commit's receipt, in commit order. */
function history(charges: bigint[], start = 0n): ChainReceipt[] {
  let total = start;
  return charges.map((charged, i) => ({ requestId: `q${i}`, charged, cumulative: (total += charged) }));
}

const mismatch = (fn: () => unknown, field: string, text?: RegExp) => {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(PaymentMismatch);
  expect((err as PaymentMismatch).field).toBe(field);
  if (text) expect((err as Error).message).toMatch(text);
};

test('receipts in commit order join the anchor one by one', () => {
  const chain = createReceiptChain(0n);
  for (const r of history([40n, 0n, 25n, 100n])) expect(chain.add(r, 0n)).toBe('new');
  expect(chain.confirmed).toBe(165n);
  expect(chain.anchor).toBe(165n);
  expect(chain.unexplained).toBe(0n);
});

test('receipts settling in any order: the view is exact once all arrive, whatever the order (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.bigInt({ min: 0n, max: 1_000n }), { minLength: 1, maxLength: 30 }),
      fc.bigInt({ min: 0n, max: 10_000n }),
      fc.func(fc.integer()),
      (charges, start, order) => {
        const receipts = history(charges, start);
        const ceilings = new Map(receipts.map((r) => [r.requestId, r.charged + 7n])); // each call's ceiling ≥ its charge
        const shuffled = receipts.map((r, i) => ({ r, key: order(i) })).sort((a, b) => a.key - b.key).map((x) => x.r);
        const chain = createReceiptChain(start);
        const unsettled = new Set(receipts.map((r) => r.requestId));
        for (const r of shuffled) {
          unsettled.delete(r.requestId);
          const allowance = [...unsettled].reduce((n, id) => n + ceilings.get(id)!, 0n);
          chain.add(r, allowance);
        }
        expect(chain.confirmed).toBe(receipts.at(-1)!.cumulative);
        expect(chain.unexplained).toBe(0n);
      },
    ),
  );
});

test('one altered receipt (its total or its charge moved) is caught by the time every call has settled, in any order (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.bigInt({ min: 0n, max: 1_000n }), { minLength: 1, maxLength: 20 }),
      fc.nat(),
      fc.bigInt({ min: -50n, max: 50n }).filter((d) => d !== 0n),
      fc.boolean(),
      fc.func(fc.integer()),
      (charges, which, delta, moveTotal, order) => {
        const receipts = history(charges);
        const i = which % receipts.length;
        const honest = receipts[i]!;
        const altered = moveTotal
          ? { ...honest, cumulative: honest.cumulative + delta }
          : { ...honest, charged: honest.charged + delta };
        fc.pre(altered.charged >= 0n && altered.cumulative >= altered.charged);
        // A free call's point is not checked once the history around it is confirmed: a wrong point there costs nothing.
        fc.pre(altered.charged > 0n);
        receipts[i] = altered;
        const ceilings = new Map(receipts.map((r) => [r.requestId, r.charged + 7n]));
        const shuffled = receipts.map((r, k) => ({ r, key: order(k) })).sort((a, b) => a.key - b.key).map((x) => x.r);
        const chain = createReceiptChain(0n);
        const unsettled = new Set(receipts.map((r) => r.requestId));
        let caught = false;
        for (const r of shuffled) {
          unsettled.delete(r.requestId);
          try {
            chain.add(r, [...unsettled].reduce((n, id) => n + ceilings.get(id)!, 0n));
          } catch (err) {
            expect(err).toBeInstanceOf(PaymentMismatch);
            caught = true;
            break;
          }
        }
        expect(caught).toBe(true);
      },
    ),
    { numRuns: 2000 },
  );
});

test('a receipt that jumps past what the calls in flight could be charged is a mismatch', () => {
  const chain = createReceiptChain(0n);
  chain.add({ requestId: 'a', charged: 40n, cumulative: 40n }, 0n);
  // b was charged 40, but the total moved from 80, not 40: 40 units nobody can account for
  mismatch(() => chain.add({ requestId: 'b', charged: 40n, cumulative: 120n }, 0n), 'extra.channelState.charged', /jumped by 40/);
  expect(chain.confirmed).toBe(40n); // the refused receipt left the chain as it was
  // with a call of ceiling 50 still in flight the same gap is possible, until that call ends without a charge
  chain.add({ requestId: 'b', charged: 40n, cumulative: 120n }, 50n);
  expect(chain.unexplained).toBe(40n);
  mismatch(() => chain.check(0n), 'extra.channelState.charged', /jumped by 40/);
});

test('a free call settling last still closes the allowance: a gap left by an altered receipt is caught then', () => {
  const chain = createReceiptChain(0n);
  chain.add({ requestId: 'a', charged: 5n, cumulative: 8n }, 10n); // really (0, 5]: moved up by 3 while f was in flight
  mismatch(() => chain.add({ requestId: 'f', charged: 0n, cumulative: 0n }, 0n), 'extra.channelState.charged', /jumped by 3/);
});

test('two receipts over the same stretch, a straddle of the anchor and a changed replay are mismatches', () => {
  const chain = createReceiptChain(100n);
  chain.add({ requestId: 'a', charged: 30n, cumulative: 160n }, 100n);
  mismatch(() => chain.add({ requestId: 'b', charged: 20n, cumulative: 150n }, 100n), 'extra.channelState.charged', /overlaps/);
  mismatch(() => chain.add({ requestId: 'c', charged: 20n, cumulative: 110n }, 100n), 'extra.channelState.charged', /straddles/);
  chain.add({ requestId: 'd', charged: 30n, cumulative: 130n }, 100n);
  expect(chain.add({ requestId: 'd', charged: 30n, cumulative: 130n }, 100n)).toBe('replay');
  mismatch(() => chain.add({ requestId: 'd', charged: 31n, cumulative: 131n }, 100n), 'extra.requestId');
  // history receipts already account for cannot take another charge
  chain.add({ requestId: 'e', charged: 0n, cumulative: 130n }, 0n);
  chain.add({ requestId: 'f', charged: 0n, cumulative: 130n }, 0n);
  expect(chain.confirmed).toBe(160n);
});

test('an adopted resync counts what the payer lost track of; late receipts must fall inside it', () => {
  const chain = createReceiptChain(0n);
  chain.add({ requestId: 'a', charged: 10n, cumulative: 10n }, 0n);
  expect(chain.adopt(70n)).toBe(60n); // 60 charged that no receipt showed
  expect(chain.confirmed).toBe(70n);
  // a call in flight at the resync, committed inside the adopted stretch: already counted
  expect(chain.add({ requestId: 'b', charged: 25n, cumulative: 45n }, 0n)).toBe('before_anchor');
  expect(chain.confirmed).toBe(70n);
  mismatch(() => chain.add({ requestId: 'c', charged: 40n, cumulative: 70n }, 0n), 'extra.channelState.charged', /overlaps/);
  // a receipt on history receipts itemized (a's) is a double count
  mismatch(() => chain.add({ requestId: 'd', charged: 5n, cumulative: 8n }, 0n), 'extra.channelState.charged', /already account/);
  // a snapshot inside a receipt's stretch contradicts it
  chain.add({ requestId: 'e', charged: 10n, cumulative: 100n }, 50n); // 20 unexplained: a call of ceiling 50 is in flight
  expect(chain.confirmed).toBe(80n);
  mismatch(() => chain.adopt(95n), 'extra.channelState.charged', /falls inside/);
  expect(() => chain.adopt(10n)).toThrow(RangeError);
});
