import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describeLedgerConformance, openChannel, reservedId, testChannelId, testRequest } from './ledger-conformance';
import { isLedgerError } from './ledger-error';
import { openSqliteLedger } from './open-sqlite-ledger';

const ROOT = resolve(__dirname, '..');
let dir: string;
let files = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'veil-ledger-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const freshFile = () => join(dir, `ledger-${++files}.sqlite`);

describeLedgerConformance('openSqliteLedger', () => openSqliteLedger({ file: freshFile() }));

/** Runs test/support/sqlite-ledger-child.ts; resolves with its first stdout line (the child keeps running). */
function startChild(args: string[]) {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'run-ts.cjs'), join(ROOT, 'test', 'support', 'sqlite-ledger-child.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const line = new Promise<string>((done, fail) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) done(out.split('\n')[0]!);
    });
    void exited.then(({ code }) => fail(new Error(`child exited (${code}) before printing: ${stderr}`)));
  });
  return { child, line, exited };
}

describe('openSqliteLedger on disk', () => {
  test('WAL mode, a schema_version table, and a second open of the same file migrates nothing', async () => {
    const file = freshFile();
    const ledger = await openSqliteLedger({ file });
    await openChannel(ledger);
    await ledger.close();
    const again = await openSqliteLedger({ file });
    expect(await again.channel(testChannelId(1))).toMatchObject({ deposited: 1_000_000n });
    await openChannel(again, 2);
    // Owner-only, the WAL too: the file holds vouchers that could still pay for calls.
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect([f, (statSync(f).mode & 0o777).toString(8)]).toEqual([f, '600']);
    await again.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: 1 }]);
    db.close();
  });

  test('a file written by a newer schema is refused with schema_too_new, not misread', async () => {
    const file = freshFile();
    await (await openSqliteLedger({ file })).close();
    const db = new Database(file);
    db.prepare('INSERT INTO schema_version (version) VALUES (2)').run();
    db.close();
    const error = await openSqliteLedger({ file }).catch((e: unknown) => e);
    expect(isLedgerError(error, 'schema_too_new') && error.message).toMatch(/schema version 2; this Veil knows up to 1/);
  });

  test('durability: a receipt committed by a process killed with SIGKILL right after is there when the file is reopened', async () => {
    const file = freshFile();
    const { child, line, exited } = startChild(['commit', file]);
    expect(await line).toBe('committed 77');
    child.kill('SIGKILL');
    expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });
    const ledger = await openSqliteLedger({ file });
    expect(await ledger.receipt('child-1')).toMatchObject({ charged: 77n, cumulative: 77n });
    expect(await ledger.channel(testChannelId(1))).toMatchObject({ charged: 77n, reserved: 0n });
    // The retry of that call after the crash is a replay, not a second charge.
    expect(await ledger.reserve(testRequest(1, { requestId: 'child-1' }))).toMatchObject({ kind: 'replay' });
    await ledger.close();
  });

  test('two processes on one file race 200 reservations each against a voucher that covers 250: exactly 250 admitted', async () => {
    const file = freshFile();
    const ledger = await openSqliteLedger({ file });
    await openChannel(ledger);
    await ledger.close();
    // Both start at the same instant (after their ~1 s start-up), so their IMMEDIATE transactions interleave.
    const start = String(Date.now() + 3_000);
    const [a, b] = [startChild(['race', file, '200', start]), startChild(['race', file, '200', start])];
    const counts = (await Promise.all([a.line, b.line])).map((l) => Number(/^admitted (\d+)$/.exec(l)?.[1]));
    await Promise.all([a.exited, b.exited]);
    expect(counts[0]! + counts[1]!).toBe(250);
    const after = await openSqliteLedger({ file });
    expect(await after.channel(testChannelId(1))).toMatchObject({ reserved: 250_000n, charged: 0n });
    expect(await after.reserve(testRequest(999, { voucherMax: 250_000n, ceiling: 1_000n }))).toMatchObject({ kind: 'insufficient_voucher', required: 251_000n });
    await after.close();
  });

  test('commits survive a reopen in the same process too (reserve in one instance, commit in the next)', async () => {
    const file = freshFile();
    const first = await openSqliteLedger({ file });
    await openChannel(first);
    const id = reservedId(await first.reserve(testRequest(1)));
    await first.close();
    const second = await openSqliteLedger({ file });
    expect(await second.commit(id, 42n, 2_000)).toMatchObject({ cumulative: 42n });
    await second.close();
  });
});
