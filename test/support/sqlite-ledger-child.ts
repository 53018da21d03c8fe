/**
 * A second process on a SQLite ledger file, for payments/open-sqlite-ledger.test.ts:
 * - `commit FILE`: commits one call (request `child-1`), prints `committed <cumulative>` and then hangs until it is
 *   killed (the test sends SIGKILL: nothing after the commit may be needed for the receipt to last);
 * - `race FILE N START`: from the wall-clock time START (ms), so two children overlap, tries N reservations on
 *   channel 1 as fast as it can, then prints `admitted <count>`.
 * Run with bin/run-ts.cjs.
 */
import { openSqliteLedger } from '../../payments';
import { openChannel, testChannelId, testRequest } from '../../payments/ledger-conformance';

async function main(): Promise<void> {
  const [mode, file, count, start] = process.argv.slice(2);
  if (!file) throw new Error('usage: sqlite-ledger-child.ts commit|race FILE [N]');
  const ledger = await openSqliteLedger({ file });
  if (mode === 'commit') {
    await openChannel(ledger);
    const reserved = await ledger.reserve(testRequest(1, { requestId: 'child-1', ceiling: 100n }));
    if (reserved.kind !== 'reserved') throw new Error(`not reserved: ${reserved.kind}`);
    const receipt = await ledger.commit(reserved.reservationId, 77n, 2_000);
    process.stdout.write(`committed ${receipt.cumulative}\n`);
    setInterval(() => {}, 60_000); // hang: the parent kills us
    return;
  }
  if (mode === 'race') {
    let admitted = 0;
    while (Date.now() < Number(start)) await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < Number(count); i++) {
      const result = await ledger.reserve(testRequest(i, { requestId: `child-${process.pid}-${i}`, channelId: testChannelId(1), voucherMax: 250_000n, ceiling: 1_000n }));
      if (result.kind === 'reserved') admitted++;
    }
    await ledger.close();
    process.stdout.write(`admitted ${admitted}\n`);
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
