import { concat, keccak256, stringToHex } from 'viem';
import { ChainError } from './errors';
import { measurementId } from './measurement-id';
import { nitroMeasurementHex } from './nitro-measurement';
import { platformFromTag, platformTag } from './platform';

const SNP = 'ab'.repeat(48);

test('measurementId = keccak256(bytes32 platform tag ‖ measurement bytes)', () => {
  expect(measurementId('sev-snp', SNP)).toBe(keccak256(concat([stringToHex('sev-snp', { size: 32 }), `0x${SNP}`])));
  // 0x prefix and case do not change the id
  expect(measurementId('sev-snp', `0x${SNP.toUpperCase()}`)).toBe(measurementId('sev-snp', SNP));
});

test('the same bytes on two platforms are two identities', () => {
  expect(measurementId('tdx', 'abcd')).not.toBe(measurementId('simulated', 'abcd'));
});

test('platform tags round-trip', () => {
  expect(platformTag('sev-snp')).toBe('0x7365762d736e7000000000000000000000000000000000000000000000000000');
  expect(platformFromTag(platformTag('nitro'))).toBe('nitro');
  expect(platformFromTag(stringToHex('sgx', { size: 32 }))).toBeUndefined();
});

test('error: wrong measurement length for the platform', () => {
  expect(() => measurementId('sev-snp', 'ab'.repeat(32))).toThrow(new ChainError('invalid_hex', 'measurement: expected 48 bytes, got 32'));
  expect(() => measurementId('nitro', 'ab'.repeat(48))).toThrow('measurement: expected 144 bytes, got 48');
});

test('error: not hex / unknown platform', () => {
  expect(() => measurementId('tdx', 'xyz')).toThrow('measurement: not a non-empty, even-length hex string');
  expect(() => measurementId('tdx', '')).toThrow(ChainError);
  expect(() => measurementId('sgx' as never, 'ab')).toThrow('platform: expected one of sev-snp, tdx, nitro, simulated');
});

test('nitro: PCR0 ‖ PCR1 ‖ PCR2 from the claims PCR map', () => {
  const pcrs = { '0': '00'.repeat(48), '1': '11'.repeat(48), '2': '22'.repeat(48), '3': '33'.repeat(48) };
  expect(nitroMeasurementHex(pcrs)).toBe(`0x${'00'.repeat(48)}${'11'.repeat(48)}${'22'.repeat(48)}`);
  expect(measurementId('nitro', nitroMeasurementHex(pcrs))).toMatch(/^0x[0-9a-f]{64}$/);
  expect(() => nitroMeasurementHex({ '0': '00'.repeat(48), '1': '11'.repeat(48) })).toThrow('pcrs: PCR2 is missing');
  // PCR0 alone (what AttestationClaims.measurement holds for Nitro) is refused, not silently a different identity.
  expect(() => measurementId('nitro', pcrs['0'])).toThrow('measurement: expected 144 bytes, got 48');
});
