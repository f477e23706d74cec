import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Paces a background job between small units of work (a page, a batch): `pause()` after each
 * one waits long enough that the job works at most its share of the wall clock.
 */
export interface Pacer {
  pause(): Promise<void>;
}

/**
 * Work time above this since the last pause is not a unit of the job's: the gap since its last
 * run (a pacer lives as long as its process) or one whole-table statement. It is paced as this.
 */
const MAX_PAUSE_MS = 1000;

/** Works flat out: the pacer of tests and of a job that has the database to itself. */
export const UNPACED: Pacer = { pause: () => Promise.resolve() };

/**
 * Works `dutyCycle` (0-1] of the time: after a unit that took `t` ms it rests `t * (1 - d) / d`,
 * so the job yields the cores and the database in slices as short as its units, and a busier
 * machine (slower units) gets longer rests.
 */
export function dutyCyclePacer(dutyCycle: number, now: () => number = () => performance.now(), wait: (ms: number) => Promise<unknown> = sleep): Pacer {
  if (!(dutyCycle > 0 && dutyCycle <= 1)) throw new RangeError(`a duty cycle is in (0, 1], not ${dutyCycle}`);
  if (dutyCycle === 1) return UNPACED;
  let since = now();
  return {
    async pause() {
      const worked = Math.min(now() - since, MAX_PAUSE_MS);
      await wait((worked * (1 - dutyCycle)) / dutyCycle);
      since = now();
    },
  };
}
