import { captureCli } from '../test/support/capture-cli';
import { run } from './config';
import { redactSecret } from './describe-effective-config';

/** Runs `veil config` with these VEIL_* variables set for the call only. */
async function withEnv(env: Record<string, string>, args: string[]) {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await captureCli(run, args);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('veil config', () => {
  test('--json lists every leaf with its value and source; flags and env are told apart', async () => {
    const r = await withEnv({ VEIL_FHE_MAX_QUEUE: '17' }, ['--json', '--port', '6001']);
    expect(r.code).toBe(0);
    const settings = JSON.parse(r.out) as { key: string; value: unknown; source: string; origin: string; env: string }[];
    const byKey = new Map(settings.map((s) => [s.key, s]));
    expect(byKey.get('fhe.maxQueue')).toMatchObject({ value: 17, source: 'env', origin: 'env VEIL_FHE_MAX_QUEUE' });
    expect(byKey.get('grpc.port')).toMatchObject({ value: 6001, source: 'flag', env: 'VEIL_GRPC_PORT' });
    expect(byKey.get('grpc.host')).toMatchObject({ value: '127.0.0.1', source: 'default' });
    expect(byKey.has('payments.postgresUrl')).toBe(true);
  });

  test('secret-bearing values are redacted in text and JSON; their default sentinels are not', async () => {
    const env = { VEIL_PAYMENTS_POSTGRES_URL: 'postgres://veil:hunter2@db.internal:5432/ledger', VEIL_CHAIN_RPC_URL: 'https://rpc.example/v3/projectkey123' };
    for (const args of [[], ['--json']]) {
      const r = await withEnv(env, args);
      expect(r.code).toBe(0);
      expect(r.out).not.toContain('hunter2');
      expect(r.out).not.toContain('projectkey123');
      expect(r.out).toContain('postgres://db.internal:5432/<redacted>');
    }
    const plain = await withEnv({}, ['--json']);
    expect(JSON.parse(plain.out).find((s: { key: string }) => s.key === 'payments.postgresUrl')).toMatchObject({ value: 'none', redacted: false });
  });

  test('the text form prints one line per leaf with its origin', async () => {
    const r = await withEnv({ VEIL_LOG_LEVEL: 'warn' }, []);
    expect(r.out).toMatch(/^log\.level\s+"warn"\s+env VEIL_LOG_LEVEL$/m);
    expect(r.out).toMatch(/^grpc\.port\s+50051\s+default$/m);
  });

  test('error: an invalid configuration exits 2 naming the setting and its source', async () => {
    const r = await withEnv({ VEIL_GRPC_PORT: 'lots' }, []);
    expect(r.code).toBe(2);
    expect(r.err).toContain('/grpc/port: must be an integer, got "lots" (from env VEIL_GRPC_PORT)');
  });

  test('redactSecret keeps only scheme and host of a URL, nothing of anything else', () => {
    expect(redactSecret('postgres://u:p@h:1/db?sslmode=require')).toBe('postgres://h:1/<redacted>');
    expect(redactSecret('host=db password=x')).toBe('<redacted>');
  });
});
