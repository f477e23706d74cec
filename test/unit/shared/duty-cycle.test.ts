import { describe, expect, it } from 'vitest';
import { dutyCyclePacer, UNPACED } from '../../../lambdas/shared/duty-cycle.js';

/** A clock the test moves, and the rests the pacer asked for (which move it too). */
function fakeTime() {
  let now = 0;
  const rests: number[] = [];
  return {
    now: () => now,
    work: (ms: number) => {
      now += ms;
    },
    wait: async (ms: number) => {
      rests.push(ms);
      now += ms;
    },
    rests,
  };
}

describe('dutyCyclePacer', () => {
  it('rests after each unit of work so that the work is its share of the time', async () => {
    const time = fakeTime();
    const pacer = dutyCyclePacer(0.25, time.now, time.wait);

    for (const ms of [20, 40, 10]) {
      time.work(ms);
      await pacer.pause();
    }

    expect(time.rests).toEqual([60, 120, 30]);
  });

  it('counts no rest as work: the next unit starts after it', async () => {
    const time = fakeTime();
    const pacer = dutyCyclePacer(0.5, time.now, time.wait);

    time.work(10);
    await pacer.pause();
    time.work(10);
    await pacer.pause();

    expect(time.rests).toEqual([10, 10]);
  });

  it('paces a long gap (the time since the last run) as one second of work', async () => {
    const time = fakeTime();
    const pacer = dutyCyclePacer(0.5, time.now, time.wait);

    time.work(3_600_000);
    await pacer.pause();

    expect(time.rests).toEqual([1000]);
  });

  it('does not rest at a duty cycle of 1, and refuses one outside (0, 1]', () => {
    expect(dutyCyclePacer(1)).toBe(UNPACED);
    expect(() => dutyCyclePacer(0)).toThrow(RangeError);
    expect(() => dutyCyclePacer(1.2)).toThrow(RangeError);
  });
});
