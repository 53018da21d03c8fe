import { captureCli } from '../test/support/capture-cli';
import { resolveDemoModel, run } from './demo';

test('veil demo accepts the short model names the docs use', () => {
  expect(resolveDemoModel(undefined)).toBe('breast-cancer-lr');
  expect(resolveDemoModel('digits')).toBe('digits-mlp');
  expect(resolveDemoModel('lr')).toBe('breast-cancer-lr');
  expect(resolveDemoModel('digits-relu-mlp')).toBe('digits-relu-mlp');
});

test('error: bad flags exit 2 with usage; no gateway at the target exits 1 naming the address', async () => {
  expect((await captureCli(run, ['--latency-samples', '0'])).code).toBe(2);
  expect((await captureCli(run, ['--bogus'])).code).toBe(2);
  const down = await captureCli(run, ['--target', '127.0.0.1:9', '--latency-samples', '1']);
  expect(down.code).toBe(1);
  expect(down.err).toContain('127.0.0.1:9');
});
