import { loadConfig, loadConfigWithSources } from './load-config';
import { ConfigError } from './config-error';
import { CONFIG_SCHEMA, isConfigField, type ConfigTree } from './config-schema';

describe('loadConfig', () => {
  test('embedded defaults need no file and no env', () => {
    const config = loadConfig({ env: {} });
    expect(config.grpc.host).toBe('127.0.0.1');
    expect(config.grpc.port).toBe(50051);
    expect(config.fhe.models).toEqual(['breast-cancer-lr', 'digits-mlp', 'digits-cnn']);
    expect(config.fhe.workers).toBeGreaterThanOrEqual(1);
    expect(config.log.level).toBe('info');
    // TEE mode by default: one in-process SIMULATED node, allowed explicitly (development default), no remote nodes.
    expect(config.tee).toMatchObject({ enabled: true, local: true, allowSimulated: true, nodes: [], measurements: ['any'] });
    expect(config.tee.models).toEqual(['breast-cancer-lr', 'digits-mlp', 'digits-relu-mlp', 'digits-cnn']);
  });

  test('tee.nodes and the routing policy come from env like every other leaf', () => {
    const config = loadConfig({ env: { VEIL_TEE_NODES: '10.0.0.1:50061, 10.0.0.2:50061', VEIL_TEE_ALLOW_SIMULATED: 'false', VEIL_TEE_MEASUREMENTS: 'sev-snp:ab,tdx:any' } });
    expect(config.tee.nodes).toEqual(['10.0.0.1:50061', '10.0.0.2:50061']);
    expect(config.tee.allowSimulated).toBe(false);
    expect(config.tee.measurements).toEqual(['sev-snp:ab', 'tdx:any']);
  });

  test('precedence: defaults < file < overrides < env', () => {
    const file = JSON.stringify({ grpc: { port: 6000, host: '0.0.0.0' }, fhe: { maxQueue: 5 } });
    const config = loadConfig({
      env: { VEIL_CONFIG: '/etc/veil.json', VEIL_GRPC_PORT: '7000', VEIL_FHE_MODELS: 'a, b' },
      readFile: () => file,
      overrides: { fhe: { maxQueue: 9 } },
    });
    expect(config.grpc.port).toBe(7000);
    expect(config.grpc.host).toBe('0.0.0.0');
    expect(config.fhe.maxQueue).toBe(9);
    expect(config.fhe.models).toEqual(['a', 'b']);
  });

  test('the result is deeply frozen', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.grpc)).toBe(true);
    expect(() => {
      (config.grpc as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  test('error: every invalid value is reported together with its path and source', () => {
    const file = JSON.stringify({ grpc: { port: 'http', bogus: 1 }, log: { level: 'loud' } });
    let error: ConfigError | undefined;
    try {
      loadConfig({ env: { VEIL_CONFIG: 'veil.json', VEIL_FHE_WORKERS: 'two', VEIL_GRPC_PORT: '70000' }, readFile: () => file });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual([
      { path: '/grpc/bogus', message: 'unknown setting', source: 'file veil.json' },
      { path: '/grpc/port', message: 'must be an integer, got "http"', source: 'file veil.json' },
      { path: '/grpc/port', message: 'must be between 0 and 65535, got 70000', source: 'env VEIL_GRPC_PORT' },
      { path: '/fhe/workers', message: 'must be an integer, got "two"', source: 'env VEIL_FHE_WORKERS' },
      { path: '/log/level', message: 'must be one of debug, info, warn, error, silent, got "loud"', source: 'file veil.json' },
    ]);
    expect(error!.message).toContain('/fhe/workers: must be an integer, got "two" (from env VEIL_FHE_WORKERS)');
  });

  test('error: unreadable or non-object config file', () => {
    const missing = () => loadConfig({ env: { VEIL_CONFIG: 'nope.json' }, readFile: () => { throw Object.assign(new Error('x'), { code: 'ENOENT' }); } });
    expect(missing).toThrow('/: cannot read config file: file not found (from file nope.json)');
    expect(() => loadConfig({ env: { VEIL_CONFIG: 'a.json' }, readFile: () => '[1]' })).toThrow('the top level must be a JSON object');
    expect(() => loadConfig({ env: { VEIL_CONFIG: 'a.json' }, readFile: () => '{ nope' })).toThrow(ConfigError);
  });
});

/** The schema's own defaults as one object: what a development gateway with no config must be. */
function schemaDefaults(tree: ConfigTree = CONFIG_SCHEMA): Record<string, unknown> {
  return Object.fromEntries(Object.entries(tree).map(([k, node]) => [k, isConfigField(node) ? node.default : schemaDefaults(node)]));
}

function problemsOf(run: () => unknown): { path: string; message: string; source: string }[] {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('trust settings (every profile)', () => {
  test('development with no config is exactly the schema defaults (npm start unchanged)', () => {
    expect(loadConfig({ env: {} })).toEqual(schemaDefaults());
    expect(loadConfig({ env: { VEIL_PROFILE: 'development' } })).toEqual({ ...schemaDefaults(), profile: 'development' });
  });

  test.each([
    ['ab01', '"ab01" no longer says which platform'],
    ['sev-snp:xyz', '"xyz" is not even-length hex'],
    ['sgx:ab', 'platform one of sev-snp, tdx, nitro, simulated'],
  ])('error: tee.measurements entry %s is refused, naming the new form and the source', (entry, message) => {
    const problems = problemsOf(() => loadConfig({ env: { VEIL_TEE_MEASUREMENTS: `simulated:any,${entry}` } }));
    expect(problems).toEqual([{ path: '/tee/measurements/1', message: expect.stringContaining(message), source: 'env VEIL_TEE_MEASUREMENTS' }]);
    expect(problems[0]!.message).toContain('"<platform>:<hex>" or "<platform>:any"');
  });

  test('error: a bare "any" is accepted only as the whole list', () => {
    expect(loadConfig({ env: { VEIL_TEE_MEASUREMENTS: 'any' } }).tee.measurements).toEqual(['any']);
    const problems = problemsOf(() => loadConfig({ env: { VEIL_TEE_MEASUREMENTS: 'sev-snp:ab,any' } }));
    expect(problems).toEqual([{ path: '/tee/measurements/1', message: expect.stringContaining('accepted only as the whole list'), source: 'env VEIL_TEE_MEASUREMENTS' }]);
  });

  test('tee.simulatedKeys must be public keys (hex SPKI DER)', () => {
    const { publicKey } = require('node:crypto').generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const hex = publicKey.export({ format: 'der', type: 'spki' }).toString('hex');
    expect(loadConfig({ env: { VEIL_TEE_SIMULATED_KEYS: hex } }).tee.simulatedKeys).toEqual([hex]);
    const file = JSON.stringify({ tee: { simulatedKeys: [hex, 'abcd'] } });
    expect(problemsOf(() => loadConfig({ env: { VEIL_CONFIG: 'veil.json' }, readFile: () => file }))).toEqual([
      { path: '/tee/simulatedKeys/1', message: expect.stringContaining('must be a public key as hex SPKI DER'), source: 'file veil.json' },
    ]);
  });
});

describe('profile=production', () => {
  // The least a production gateway needs: TLS files and (by the profile default) API keys. TEE nodes are pinned.
  const SAFE = {
    VEIL_PROFILE: 'production', VEIL_GRPC_TLS_CERT_FILE: '/etc/veil/tls.crt', VEIL_GRPC_TLS_KEY_FILE: '/etc/veil/tls.key',
    VEIL_HTTP_TLS_CERT_FILE: '/etc/veil/tls.crt', VEIL_HTTP_TLS_KEY_FILE: '/etc/veil/tls.key',
    VEIL_TEE_MEASUREMENTS: `sev-snp:${'ab'.repeat(48)}`,
  };

  test('production defaults turn every development default off', () => {
    const config = loadConfig({ env: SAFE });
    expect(config.profile).toBe('production');
    expect(config.tee).toMatchObject({ local: false, allowSimulated: false });
    expect(config.chain.enabled).toBe(false);
    expect(config.payments.enabled).toBe(false);
    expect(config.auth.mode).toBe('api-keys');
    const dev = loadConfig({ env: {} });
    expect([dev.tee.local, dev.tee.allowSimulated, dev.chain.enabled, dev.payments.enabled, dev.auth.mode]).toEqual([true, true, true, true, 'off']);
  });

  test('the profile may come from the config file; its defaults sit below the file', () => {
    const file = JSON.stringify({ profile: 'production', grpc: { tlsCertFile: 'c.pem', tlsKeyFile: 'k.pem' }, http: { tlsCertFile: 'c.pem', tlsKeyFile: 'k.pem' }, tee: { enabled: false } });
    const config = loadConfig({ env: { VEIL_CONFIG: 'veil.json' }, readFile: () => file });
    expect(config).toMatchObject({ profile: 'production', tee: { enabled: false, local: false }, auth: { mode: 'api-keys' } });
  });

  test('error: with nothing configured, every missing setting is named with its source', () => {
    expect(problemsOf(() => loadConfig({ env: { VEIL_PROFILE: 'production' } }))).toEqual([
      { path: '/grpc/tlsCertFile', message: expect.stringContaining('TLS is required'), source: 'default' },
      { path: '/grpc/tlsKeyFile', message: expect.stringContaining('TLS is required'), source: 'default' },
      { path: '/http/tlsCertFile', message: expect.stringContaining('TLS is required on the HTTP API'), source: 'default' },
      { path: '/http/tlsKeyFile', message: expect.stringContaining('TLS is required on the HTTP API'), source: 'default' },
      { path: '/tee/measurements', message: expect.stringContaining('must list the measurements'), source: 'production profile default' },
    ]);
  });

  const NODES = { VEIL_TEE_NODES: '10.0.0.1:50061' };
  const MTLS = { VEIL_TEE_NODE_CA_FILE: 'ca.pem', VEIL_TEE_CLIENT_CERT_FILE: 'c.pem', VEIL_TEE_CLIENT_KEY_FILE: 'k.pem' };
  test.each([
    ['tee.local', { VEIL_TEE_LOCAL: 'true' }, '/tee/local', 'env VEIL_TEE_LOCAL', 'in-process node is SIMULATED'],
    ['tee.allowSimulated', { VEIL_TEE_ALLOW_SIMULATED: '1' }, '/tee/allowSimulated', 'env VEIL_TEE_ALLOW_SIMULATED', 'SIMULATED evidence'],
    ['tee.measurements any', { VEIL_TEE_MEASUREMENTS: 'any' }, '/tee/measurements/0', 'env VEIL_TEE_MEASUREMENTS', 'admits any measurement'],
    ['tee.measurements <platform>:any', { VEIL_TEE_MEASUREMENTS: 'sev-snp:any' }, '/tee/measurements/0', 'env VEIL_TEE_MEASUREMENTS', 'admits any measurement'],
    ['tee.measurements simulated', { VEIL_TEE_MEASUREMENTS: `simulated:${'cd'.repeat(48)}` }, '/tee/measurements/0', 'env VEIL_TEE_MEASUREMENTS', 'SIMULATED measurement'],
    ['auth.mode off', { VEIL_AUTH_MODE: 'off' }, '/auth/mode', 'env VEIL_AUTH_MODE', 'must be "api-keys"'],
    ['embedded chain', { VEIL_CHAIN_ENABLED: 'true', VEIL_CHAIN_REGISTRY_ADDRESS: `0x${'11'.repeat(20)}` }, '/chain/rpcUrl', 'default', 'embedded anvil dev chain'],
    ['chain rpcUrl not a URL', { VEIL_CHAIN_ENABLED: 'true', VEIL_CHAIN_RPC_URL: 'localhost', VEIL_CHAIN_REGISTRY_ADDRESS: `0x${'11'.repeat(20)}` }, '/chain/rpcUrl', 'env VEIL_CHAIN_RPC_URL', 'http(s)://'],
    ['chain registry deploy', { VEIL_CHAIN_ENABLED: 'true', VEIL_CHAIN_RPC_URL: 'https://rpc.example' }, '/chain/registryAddress', 'default', "registry contract's 0x address"],
    ['nodes without CA', { ...NODES, ...MTLS, VEIL_TEE_NODE_CA_FILE: '' }, '/tee/nodeCaFile', 'default', 'mutual TLS'],
    ['nodes without client cert', { ...NODES, ...MTLS, VEIL_TEE_CLIENT_CERT_FILE: '' }, '/tee/clientCertFile', 'default', 'mutual TLS'],
    ['nodes without client key', { ...NODES, ...MTLS, VEIL_TEE_CLIENT_KEY_FILE: '' }, '/tee/clientKeyFile', 'default', 'mutual TLS'],
  ])('error: %s is refused, naming the setting and its source', (_name, env, path, source, message) => {
    const problems = problemsOf(() => loadConfig({ env: { ...SAFE, ...env } }));
    expect(problems).toEqual([{ path, message: expect.stringContaining(message), source }]);
    expect(problems[0]!.message).toContain('(profile=production)');
  });

  test('remote nodes with mutual TLS files and a real chain are accepted', () => {
    const config = loadConfig({
      env: { ...SAFE, ...NODES, ...MTLS, VEIL_CHAIN_ENABLED: 'true', VEIL_CHAIN_RPC_URL: 'https://rpc.example', VEIL_CHAIN_REGISTRY_ADDRESS: `0x${'11'.repeat(20)}` },
    });
    expect(config.tee.nodes).toEqual(['10.0.0.1:50061']);
    expect(config.chain.enabled).toBe(true);
  });

  test('error: a file may not switch development defaults back on; the file is named as the source', () => {
    const file = JSON.stringify({ tee: { local: true } });
    expect(problemsOf(() => loadConfig({ env: { ...SAFE, VEIL_CONFIG: '/etc/veil.json' }, readFile: () => file }))).toEqual([
      { path: '/tee/local', message: expect.stringContaining('SIMULATED'), source: 'file /etc/veil.json' },
    ]);
  });
});

describe('http.* (issue #10)', () => {
  test('defaults: enabled on 127.0.0.1:8080, plain HTTP; env overrides each leaf', () => {
    expect(loadConfig({ env: {} }).http).toMatchObject({ enabled: true, host: '127.0.0.1', port: 8080, tlsCertFile: 'none', tlsKeyFile: 'none' });
    const config = loadConfig({ env: { VEIL_HTTP_PORT: '0', VEIL_HTTP_ENABLED: 'false', VEIL_HTTP_IDEMPOTENCY_MAX_ENTRIES: '5' } });
    expect(config.http).toMatchObject({ port: 0, enabled: false, idempotencyMaxEntries: 5 });
  });

  test('precedence: file < overrides < env', () => {
    const file = JSON.stringify({ http: { port: 9000, host: '0.0.0.0', bodyLimitBytes: 4096 } });
    const config = loadConfig({ env: { VEIL_CONFIG: 'v.json', VEIL_HTTP_PORT: '9002' }, readFile: () => file, overrides: { http: { port: 9001, bodyLimitBytes: 8192 } } });
    expect(config.http).toMatchObject({ port: 9002, host: '0.0.0.0', bodyLimitBytes: 8192 });
  });

  test('error: out-of-range leaves, a default deadline above the maximum and half a TLS pair are named', () => {
    expect(problemsOf(() => loadConfig({ env: { VEIL_HTTP_PORT: '65536', VEIL_HTTP_BODY_LIMIT_BYTES: '10' } }))).toEqual([
      { path: '/http/port', message: 'must be between 0 and 65535, got 65536', source: 'env VEIL_HTTP_PORT' },
      { path: '/http/bodyLimitBytes', message: expect.stringContaining('must be between 1024'), source: 'env VEIL_HTTP_BODY_LIMIT_BYTES' },
    ]);
    expect(problemsOf(() => loadConfig({ env: { VEIL_HTTP_DEFAULT_DEADLINE_MS: '5000', VEIL_HTTP_MAX_DEADLINE_MS: '1000' } }))).toEqual([
      { path: '/http/defaultDeadlineMs', message: 'must not exceed http.maxDeadlineMs (1000), got 5000', source: 'env VEIL_HTTP_DEFAULT_DEADLINE_MS' },
    ]);
    expect(problemsOf(() => loadConfig({ env: { VEIL_HTTP_TLS_CERT_FILE: '/etc/c.pem' } }))).toEqual([
      { path: '/http/tlsKeyFile', message: expect.stringContaining('must be set together'), source: 'default' },
    ]);
  });

  test('production: HTTP disabled needs no HTTP TLS', () => {
    const env = { VEIL_PROFILE: 'production', VEIL_GRPC_TLS_CERT_FILE: 'c', VEIL_GRPC_TLS_KEY_FILE: 'k', VEIL_TEE_ENABLED: 'false', VEIL_HTTP_ENABLED: 'false' };
    expect(loadConfig({ env }).http.enabled).toBe(false);
  });
});

describe('loadConfigWithSources', () => {
  test('every leaf reports the layer its effective value came from: default, file, flag or env', () => {
    const { config, sources } = loadConfigWithSources({
      env: { VEIL_CONFIG: '/etc/veil.json', VEIL_GRPC_PORT: '7000', VEIL_LOG_LEVEL: '' },
      readFile: () => JSON.stringify({ grpc: { host: '0.0.0.0', port: 6000 }, fhe: { maxQueue: 5 } }),
      overrides: { fhe: { maxQueue: 9 }, http: { port: 8081 } },
    });
    expect(config.grpc.port).toBe(7000);
    expect(sources.get('/grpc/port')).toEqual({ kind: 'env', label: 'env VEIL_GRPC_PORT' });
    expect(sources.get('/grpc/host')).toEqual({ kind: 'file', label: 'file /etc/veil.json' });
    expect(sources.get('/fhe/maxQueue')).toEqual({ kind: 'flag', label: 'command line' });
    expect(sources.get('/http/port')).toEqual({ kind: 'flag', label: 'command line' });
    // An empty env var sets nothing, so the default stands and is reported as such.
    expect(sources.get('/log/level')).toEqual({ kind: 'default', label: 'default' });
  });

  test('payments are on by default in development, on the embedded chain; the default follows chain.enabled', () => {
    const on = loadConfigWithSources({ env: {} });
    expect([on.config.payments.enabled, on.config.chain.enabled, on.config.chain.rpcUrl]).toEqual([true, true, 'embedded']);
    expect(on.sources.get('/payments/enabled')).toEqual({ kind: 'default', label: 'default' });
    const noChain = loadConfigWithSources({ env: { VEIL_CHAIN_ENABLED: 'false' } });
    expect(noChain.config.payments.enabled).toBe(false);
    expect(noChain.sources.get('/payments/enabled')).toEqual({ kind: 'default', label: 'default (off: chain.enabled = false)' });
    // Asked for explicitly without a chain: refused, naming the setting and where it came from.
    expect(problemsOf(() => loadConfig({ env: { VEIL_CHAIN_ENABLED: 'false', VEIL_PAYMENTS_ENABLED: 'true' } }))).toEqual([
      { path: '/payments/enabled', message: expect.stringContaining('needs chain.enabled = true'), source: 'env VEIL_PAYMENTS_ENABLED' },
    ]);
    expect(loadConfig({ overrides: { payments: { enabled: false } }, env: {} }).payments.enabled).toBe(false);
  });

  test('a profile default is reported as a default, naming the profile', () => {
    const { sources } = loadConfigWithSources({
      env: {
        VEIL_PROFILE: 'production', VEIL_GRPC_TLS_CERT_FILE: 'c.pem', VEIL_GRPC_TLS_KEY_FILE: 'k.pem',
        VEIL_HTTP_TLS_CERT_FILE: 'c.pem', VEIL_HTTP_TLS_KEY_FILE: 'k.pem', VEIL_TEE_MEASUREMENTS: 'sev-snp:ab',
      },
    });
    expect(sources.get('/profile')).toEqual({ kind: 'env', label: 'env VEIL_PROFILE' });
    expect(sources.get('/auth/mode')).toEqual({ kind: 'default', label: 'production profile default' });
  });

  test('the sources cover exactly the schema\'s leaves', () => {
    const { sources } = loadConfigWithSources({ env: {} });
    const leaves: string[] = [];
    const walk = (tree: ConfigTree, at: string) => {
      for (const [key, node] of Object.entries(tree)) {
        if (isConfigField(node)) leaves.push(`${at}/${key}`);
        else walk(node, `${at}/${key}`);
      }
    };
    walk(CONFIG_SCHEMA, '');
    expect([...sources.keys()].sort()).toEqual(leaves.sort());
  });
});
