import { balancedTarget, isMultiAddressTarget } from './balanced-target';

test('IP:port replicas become one grpc-js address list of their family', () => {
  expect(balancedTarget(['10.0.0.1:50051', '10.0.0.2:50052'])).toBe('ipv4:10.0.0.1:50051,10.0.0.2:50052');
  expect(balancedTarget(['localhost:1', '127.0.0.2:2'])).toBe('ipv4:127.0.0.1:1,127.0.0.2:2');
  expect(balancedTarget(['[::1]:1', '[fd00::2]:2'])).toBe('ipv6:[::1]:1,[fd00::2]:2');
  expect(isMultiAddressTarget('dns:///veil.internal:50051')).toBe(true);
  expect(isMultiAddressTarget('127.0.0.1:50051')).toBe(false);
});

test('error: names, missing ports, mixed families and an empty list are refused with invalid_argument', () => {
  for (const bad of [['veil.internal:50051'], ['10.0.0.1'], ['10.0.0.1:99999'], ['10.0.0.1:1', '[::1]:2'], []]) {
    expect(() => balancedTarget(bad)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  }
});
