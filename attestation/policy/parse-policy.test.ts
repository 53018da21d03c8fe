import { parsePolicy } from './parse-policy';

const base = {
  measurements: 'any',
  debug: 'forbid',
  snpMinimumTcb: 'any',
  tdxTcbStatuses: ['UpToDate'],
  maxAgeSeconds: 'any',
  nonce: 'any',
  reportDataBinding: 'required',
};

describe('parsePolicy', () => {
  test('parses a complete policy; simulated defaults to forbid', () => {
    expect(parsePolicy(base)).toEqual({ ...base, simulated: 'forbid' });
    expect(parsePolicy(JSON.stringify({ ...base, measurements: ['sev-snp:AB01', 'tdx:0xCD', 'nitro:any'], snpMinimumTcb: { snp: 8 }, maxAgeSeconds: 60 }))).toMatchObject({ measurements: ['sev-snp:ab01', 'tdx:cd', 'nitro:any'], snpMinimumTcb: { snp: 8 }, maxAgeSeconds: 60 });
  });

  test.each([
    [{ ...base, debug: undefined }, 'policy.debug is required (use "any" to opt out explicitly)'],
    [{ ...base, measurements: undefined }, 'policy.measurements is required (use "any" to opt out explicitly)'],
    [{ ...base, debug: 'no' }, 'policy.debug must be "forbid" or "allow"'],
    [{ ...base, measurements: ['sev-snp:xyz'] }, 'policy.measurements[0] must be "<platform>:<hex>" or "<platform>:any" (platform one of sev-snp, tdx, nitro, simulated): "xyz" is not even-length hex'],
    [{ ...base, measurements: ['ab01'] }, 'policy.measurements[0] must be "<platform>:<hex>" or "<platform>:any" (platform one of sev-snp, tdx, nitro, simulated) (a bare "ab01" no longer says which platform it is for)'],
    [{ ...base, measurements: ['sev-snp:ab', 'any'] }, 'policy.measurements[1] must be "<platform>:<hex>" or "<platform>:any" (platform one of sev-snp, tdx, nitro, simulated) (a bare "any" no longer says which platform it is for)'],
    [{ ...base, measurements: ['sgx:ab'] }, 'policy.measurements[0] must be "<platform>:<hex>" or "<platform>:any" (platform one of sev-snp, tdx, nitro, simulated)'],
    [{ ...base, snpMinimumTcb: { ucode: 1 } }, 'policy.snpMinimumTcb.ucode is not one of bootloader, tee, snp, microcode, fmc'],
    [{ ...base, snpMinimumTcb: { snp: 300 } }, 'policy.snpMinimumTcb.snp must be an integer 0..255'],
    [{ ...base, tdxTcbStatuses: ['Fine'] }, 'policy.tdxTcbStatuses[0] must be one of UpToDate, SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded, Revoked'],
    [{ ...base, tdxTcbStatuses: [] }, 'policy.tdxTcbStatuses must be a non-empty array of TCB statuses or "any"'],
    [{ ...base, maxAgeSeconds: -1 }, 'policy.maxAgeSeconds must be a positive number of seconds or "any"'],
    [{ ...base, nonce: 'abc' }, 'policy.nonce must be a hex string or "any"'],
    [{ ...base, reportDataBinding: true }, 'policy.reportDataBinding must be "required" or "any"'],
    [{ ...base, simulated: 'yes' }, 'policy.simulated must be "forbid" or "allow"'],
    [{ ...base, debugg: 'allow' }, 'policy.debugg is not a known policy field'],
  ])('error: %j', (input, message) => {
    expect(() => parsePolicy(input)).toThrow(message);
    try {
      parsePolicy(input);
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_policy', name: 'AttestationError' });
    }
  });

  test('error: not JSON / not an object', () => {
    expect(() => parsePolicy('{')).toThrow('policy is not valid JSON');
    expect(() => parsePolicy([])).toThrow('policy must be a JSON object');
  });
});
