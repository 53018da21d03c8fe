import { childProcessEnv } from './child-process-env';

test('keeps only allow-listed variables and what the caller names', () => {
  const env = { PATH: '/bin', HOME: '/h', LC_ALL: 'C', VEIL_CHAIN_PRIVATE_KEY: '0xsecret', AWS_SECRET_ACCESS_KEY: 'x', VEIL_GRPC_PORT: '1' };
  expect(childProcessEnv({ env })).toEqual({ PATH: '/bin', HOME: '/h', LC_ALL: 'C' });
  expect(childProcessEnv({ env, extra: { VEIL_LOG_LEVEL: 'warn', SKIPPED: undefined } })).toEqual({ PATH: '/bin', HOME: '/h', LC_ALL: 'C', VEIL_LOG_LEVEL: 'warn' });
});
