import { captureCli } from '../test/support/capture-cli';
import { run } from './worker';

describe('veil worker flags', () => {
  test('--max-message-bytes is documented and validated with the gateway\'s tee.maxMessageBytes bounds', async () => {
    expect((await captureCli(run, ['--help'])).out).toContain('--max-message-bytes');
    for (const bad of ['10', 'lots', String(2 * 1024 * 1024 * 1024)]) {
      const r = await captureCli(run, ['--max-message-bytes', bad]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('--max-message-bytes must be an integer from 65536 to 1073741824');
    }
  });
});
