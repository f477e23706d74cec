// `--load N` of the benches: N writer processes ingesting for another tenant while the reads are timed.
import { fork } from 'node:child_process';
import type { LoadWriterReport } from './load-writer.js';

/** The tenant the load writers write for: none of the benches' measured tenants. */
const LOAD_TENANT = '00000000-0000-4000-8000-0000000000bb';

/** Starts `count` writer processes (`load-writer.ts`) for `LOAD_TENANT` and resolves once each has stored its first delivery. */
export async function startLoadWriters(databaseUrl: string, count: number) {
  const children = Array.from({ length: count }, (_, index) => fork(new URL('./load-writer.ts', import.meta.url).pathname, [databaseUrl, LOAD_TENANT, String(index + 1)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  const reports = children.map(
    (child) =>
      new Promise<LoadWriterReport>((resolve, reject) => {
        child.on('message', (message: Partial<LoadWriterReport>) => {
          if (message.stored !== undefined) resolve(message as LoadWriterReport);
        });
        child.once('exit', (code) => reject(new Error(`load writer exited (${code})`)));
      }),
  );
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('message', resolve))));
  const started = performance.now();
  return {
    async stop() {
      for (const child of children) child.send('stop');
      const done = await Promise.all(reports);
      const seconds = (performance.now() - started) / 1000;
      return { stored: done.reduce((sum, report) => sum + report.stored, 0), seconds };
    },
  };
}
