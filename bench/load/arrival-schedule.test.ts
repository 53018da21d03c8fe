import { createArrivalSchedule, InvalidScheduleError } from './arrival-schedule';

describe('createArrivalSchedule', () => {
  test('due times are evenly spaced at 1000 / rate ms, rate × duration of them', () => {
    const s = createArrivalSchedule({ ratePerSecond: 4, durationMs: 1000 });
    expect(s.total).toBe(4);
    expect([0, 1, 2, 3].map((i) => s.dueAt(i))).toEqual([0, 250, 500, 750]);
    const fractional = createArrivalSchedule({ ratePerSecond: 2.5, durationMs: 2000 });
    expect(fractional.total).toBe(5);
    expect(fractional.dueAt(4)).toBe(1600);
  });

  test('takeDue hands out each arrival once, in order, only when due', () => {
    const s = createArrivalSchedule({ ratePerSecond: 10, durationMs: 500 });
    expect(s.takeDue(0)).toEqual([0]);
    expect(s.takeDue(50)).toEqual([]);
    expect(s.nextDueAt()).toBe(100);
    expect(s.takeDue(100)).toEqual([1]);
    expect(s.takeDue(100)).toEqual([]);
  });

  test('a late wake-up takes every arrival it missed at once (open model: none is skipped or delayed further)', () => {
    const s = createArrivalSchedule({ ratePerSecond: 10, durationMs: 1000 });
    s.takeDue(0);
    expect(s.takeDue(450)).toEqual([1, 2, 3, 4]);
    expect(s.takeDue(10_000)).toEqual([5, 6, 7, 8, 9]);
    expect(s.nextDueAt()).toBeUndefined();
  });

  test('error: a rate or duration that is not positive', () => {
    expect(() => createArrivalSchedule({ ratePerSecond: 0, durationMs: 1000 })).toThrow(InvalidScheduleError);
    expect(() => createArrivalSchedule({ ratePerSecond: 5, durationMs: -1 })).toThrow('durationMs must be a positive number, got -1');
    expect(() => createArrivalSchedule({ ratePerSecond: Number.NaN, durationMs: 1 })).toThrow('ratePerSecond must be a positive number, got NaN');
  });
});
