import { readdir, readFile } from 'node:fs/promises';

/** Linux's USER_HZ: /proc counts CPU time in ticks of 10 ms on every architecture Node runs on. */
const TICK_MS = 10;

/** utime + stime of a process (all its threads) or of one thread, from /proc; 0 once it is gone. */
async function cpuMsOf(statPath: string): Promise<number> {
  const stat = await readFile(statPath, 'utf8').catch(() => '');
  // The command name (field 2) may hold spaces and parentheses: the fields after it are counted from its end.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * TICK_MS;
}

export const processCpuMs = (pid: number): Promise<number> => cpuMsOf(`/proc/${pid}/stat`);

/**
 * A process's CPU ms in its main thread and in all its others (Node names every thread `node`,
 * so a worker thread is told apart from V8's and libuv's helpers only by its time).
 */
export async function threadsCpuMs(pid: number): Promise<{ main: number; others: number }> {
  const [total, main] = await Promise.all([processCpuMs(pid), cpuMsOf(`/proc/${pid}/task/${pid}/stat`)]);
  return { main, others: total - main };
}

/** The sum over processes, for Postgres's backends. */
export async function processesCpuMs(pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) total += await processCpuMs(pid);
  return total;
}

/** CPU ms of each process whose command name is `name` (Chromium's browser, renderers, GPU and utility processes are all `chromium`), by pid. */
export async function namedProcessesCpuMsByPid(name: string): Promise<Map<number, number>> {
  const byPid = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === name) byPid.set(Number(entry), await processCpuMs(Number(entry)));
  }
  return byPid;
}
