import { createRevocationLog, readRevocationLog } from './revocation-log';

function drained(reader: ReturnType<typeof readRevocationLog>) {
  const dropped: number[] = [];
  let all = 0;
  reader.drain((s) => dropped.push(s), () => all++);
  return { dropped, all };
}

describe('revocation log', () => {
  test('a reader sees every session revoked since its last drain, once', () => {
    const log = createRevocationLog(4);
    const reader = readRevocationLog(log.buffer);
    expect(drained(reader)).toEqual({ dropped: [], all: 0 });
    log.revoke(7);
    log.revoke(9);
    expect(drained(reader)).toEqual({ dropped: [7, 9], all: 0 });
    expect(drained(reader)).toEqual({ dropped: [], all: 0 });
    for (const s of [1, 2, 3, 4]) log.revoke(s); // exactly a ring: still distinguishable
    expect(drained(reader)).toEqual({ dropped: [1, 2, 3, 4], all: 0 });
  });

  test('a reader more than a ring behind drops everything instead of guessing', () => {
    const log = createRevocationLog(4);
    const reader = readRevocationLog(log.buffer);
    for (const s of [1, 2, 3, 4, 5]) log.revoke(s);
    expect(drained(reader)).toEqual({ dropped: [], all: 1 });
    log.revoke(6);
    expect(drained(reader)).toEqual({ dropped: [6], all: 0 });
  });

  test('a reader started late ignores revocations from before it existed', () => {
    const log = createRevocationLog(4);
    log.revoke(1);
    const reader = readRevocationLog(log.buffer);
    log.revoke(2);
    expect(drained(reader)).toEqual({ dropped: [2], all: 0 });
  });

  test('the count wraps at 2^32 without losing entries', () => {
    const log = createRevocationLog(4);
    new Int32Array(log.buffer)[0] = -2; // 2^32 − 2 revocations so far
    const reader = readRevocationLog(log.buffer);
    for (const s of [10, 11, 12]) log.revoke(s);
    expect(drained(reader)).toEqual({ dropped: [10, 11, 12], all: 0 });
  });
});
