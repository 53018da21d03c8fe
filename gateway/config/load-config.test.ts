import { loadConfig } from './load-config';
import { ConfigError } from './config-error';

describe('loadConfig', () => {
  test('embedded defaults need no file and no env', () => {
    const config = loadConfig({ env: {} });
    expect(config.grpc.host).toBe('127.0.0.1');
    expect(config.grpc.port).toBe(50051);
    expect(config.fhe.models).toEqual(['breast-cancer-lr', 'digits-mlp']);
    expect(config.fhe.workers).toBeGreaterThanOrEqual(1);
    expect(config.log.level).toBe('info');
    // TEE mode by default: one in-process SIMULATED node, allowed explicitly (development default), no remote nodes.
    expect(config.tee).toMatchObject({ enabled: true, local: true, allowSimulated: true, nodes: [], measurements: ['any'] });
    expect(config.tee.models).toEqual(['breast-cancer-lr', 'digits-mlp', 'digits-relu-mlp']);
  });

  test('tee.nodes and the routing policy come from env like every other leaf', () => {
    const config = loadConfig({ env: { VEIL_TEE_NODES: '10.0.0.1:50061, 10.0.0.2:50061', VEIL_TEE_ALLOW_SIMULATED: 'false', VEIL_TEE_MEASUREMENTS: 'ab' } });
    expect(config.tee.nodes).toEqual(['10.0.0.1:50061', '10.0.0.2:50061']);
    expect(config.tee.allowSimulated).toBe(false);
    expect(config.tee.measurements).toEqual(['ab']);
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
