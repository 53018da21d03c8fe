/**
 * Which SIMULATED nodes the gateway admits: its own in-process node (key pinned automatically) and remote simulated
 * nodes only by a key configured in tee.simulatedKeys — never by the key a node's envelope carries about itself.
 */
import { createSimulatedProvider } from '../../attestation';
import { BUNDLED_MODELS } from '../../models';
import { startTeeNodeServer, type TeeNodeServer } from '../../workers/tee';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { startTeeRouting, type TeeRouting } from './start-tee-routing';

const logger = createLogger({ level: 'silent', format: 'text' });
const LR = BUNDLED_MODELS['breast-cancer-lr'].file;
let remote: TeeNodeServer;
let remoteKey: string;

beforeAll(async () => {
  const provider = createSimulatedProvider();
  remoteKey = Buffer.from(provider.verifierKey).toString('hex');
  remote = await startTeeNodeServer({ host: '127.0.0.1', port: 0, pool: { models: { 'breast-cancer-lr': LR }, threads: 1 }, evidenceSource: provider, logger });
}, 60_000);
afterAll(async () => {
  await remote?.close();
});

async function withRouting(tee: Record<string, unknown>, check: (routing: TeeRouting) => void): Promise<void> {
  const config = loadConfig({ env: {}, overrides: { tee: { models: ['breast-cancer-lr'], healthCheckSeconds: 3600, refreshSeconds: 3600, ...tee } } });
  const routing = await startTeeRouting({ config: config.tee, logger });
  try {
    check(routing);
  } finally {
    await routing.close();
  }
}

const states = (routing: TeeRouting) => Object.fromEntries(routing.nodes().map((n) => [n.nodeId, n.state === 'healthy' ? 'healthy' : n.reason]));

test('error: a remote SIMULATED node whose key is not configured is quarantined; the in-process node is admitted by its pinned key', async () => {
  await withRouting({ local: true, nodes: [remote.address] }, (routing) => {
    expect(states(routing)).toEqual({ local: 'healthy', 'remote-1': 'signature_invalid' });
    expect(routing.simulatedKeys).toHaveLength(1);
  });
  await withRouting({ local: false, nodes: [remote.address] }, (routing) => {
    expect(states(routing)).toEqual({ 'remote-1': 'simulated_key_missing' });
  });
}, 60_000);

test('a remote SIMULATED node is admitted by the key configured in tee.simulatedKeys', async () => {
  await withRouting({ local: true, nodes: [remote.address], simulatedKeys: [remoteKey] }, (routing) => {
    expect(states(routing)).toEqual({ local: 'healthy', 'remote-1': 'healthy' });
    expect(routing.simulatedKeys.map((k) => Buffer.from(k).toString('hex'))).toContain(remoteKey);
  });
}, 60_000);
