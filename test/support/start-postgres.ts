/**
 * A throwaway PostgreSQL cluster for tests (issue #11: the ledger is tested against a real server, not a mock):
 * `initdb` into a fresh temp dir, `pg_ctl -w start` on a free loopback port with its socket in that dir, and
 * `stop()` removes it all. Nothing of the machine's own clusters is touched. Debian's `postgresql` package provides
 * the binaries (`.ci/run` installs it); `initdb` refuses to run as root, so as root the binaries run as `postgres`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';

const run = promisify(execFile);

export type StartedPostgres = {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, trust auth (loopback only). */
  connectionString: string;
  port: number;
  /** The same server, another database. */
  connectionStringFor(database: string): string;
  stop(): Promise<void>;
};

/** The newest installed server's bin dir (VEIL_TEST_PG_BIN overrides), or undefined when PostgreSQL is absent. */
export function findPostgresBin(): string | undefined {
  const override = process.env.VEIL_TEST_PG_BIN;
  if (override) return existsSync(join(override, 'initdb')) ? override : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

export async function startPostgres({ bin = findPostgresBin() }: { bin?: string } = {}): Promise<StartedPostgres> {
  if (!bin) throw new Error('PostgreSQL server binaries not found (install Debian `postgresql`, or set VEIL_TEST_PG_BIN)');
  const asRoot = process.getuid?.() === 0;
  // As root everything runs as `postgres` (who must own the dir); as anyone else, as that user.
  const pgRun = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args);
  const dir = mkdtempSync(join(tmpdir(), 'veil-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const pgCtl = (args: string[]) => pgRun('pg_ctl', ['-D', data, ...args]);
  let started = false;
  const stopSync = () => {
    if (!started) return;
    try {
      const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
      if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args], { stdio: 'ignore' });
      else execFileSync(join(bin, 'pg_ctl'), args, { stdio: 'ignore' });
    } catch {
      // already down
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // A test run that dies without afterAll must not leave a server behind.
  process.once('exit', stopSync);
  try {
    // --no-sync: the cluster is thrown away; the server itself keeps fsync on, so timings are a real server's.
    await pgRun('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await pgCtl(['-w', '-t', '30', '-l', log, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
        break;
      } catch (err) {
        // Another process may have taken the port between freePort() and the bind: try another.
        const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
        if (attempt < 3 && /could not bind|Address already in use/.test(tail)) continue;
        throw new Error(`pg_ctl start failed: ${(err as Error).message}\n${tail}`);
      }
    }
    started = true;
    const connectionStringFor = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
    return {
      connectionString: connectionStringFor('postgres'),
      port,
      connectionStringFor,
      async stop() {
        process.removeListener('exit', stopSync);
        if (started) {
          started = false;
          await pgCtl(['-m', 'fast', '-w', 'stop']).catch(() => {});
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    process.removeListener('exit', stopSync);
    stopSync();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
