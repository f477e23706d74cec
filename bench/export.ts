// npm run bench:export [-- --events 200000 --small 20000 --rounds 2]
// The CSV export (issue 16) on real Postgres through the local runtime (bin/local.ts in its
// own process, as npm start runs it): one tenant's --events over the last 20 days, loaded with
// INSERT ... SELECT. Rounds alternate an export of --small rows (maxRows) and of all of them;
// each samples the server's resident memory (/proc/<pid>/status VmRSS) every 50 ms while the
// client reads the stream at full speed: the peak over the RSS just before the export. Flat
// memory means the large export's rise is about the small one's, not 10x it.
import { randomUUID } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { mintToken } from '../lambdas/shared/adapters/jwt/mint-token.js';
import { monthsAhead } from '../lambdas/shared/domain/months.js';
import { createServerDatabase } from '../test/support/test-database.js';
import { INSERT_EVENTS } from './support/insert-events.js';
import { BENCH_JWT_SECRET, startLocalServer } from './support/local-server.js';
import { benchServerUrl, median } from './support/stats.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' }, small: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '2' } } });
const events = Number(values.events);
const small = Number(values.small);
const rounds = Number(values.rounds);

const rssKb = async (pid: number): Promise<number> => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

const tenant = randomUUID();
const to = new Date();
const from = new Date(to.getTime() - 20 * 86_400_000);
const database = await createServerDatabase(benchServerUrl(), 'bench_export');
const dataDir = await mkdtemp(join(tmpdir(), 'bench-export-'));
try {
  await database.db.query('SELECT ensure_event_partition(m::date) FROM unnest($1::text[]) m', [[...new Set([...monthsAhead(from, 0), ...monthsAhead(to, 0)])]]);
  await database.db.query(INSERT_EVENTS, [[tenant], from, to, events]);
  await database.db.query('ANALYZE analytics_events');
  const server = await startLocalServer(database.url as string, dataDir);
  const pid = server.child.pid as number;
  const token = await mintToken({ secret: BENCH_JWT_SECRET, tenantId: tenant, subject: 'bench', scopes: ['events:read'] });
  const exportOnce = async (maxRows: number) => {
    await sleep(500);
    const before = await rssKb(pid);
    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rssKb(pid));
        await sleep(50);
      }
    })();
    const started = performance.now();
    const response = await fetch(`${server.url}/v1/events/export`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ startTime: from.toISOString(), endTime: to.toISOString(), maxRows }),
    });
    let bytes = 0;
    let lines = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      for (const byte of chunk) if (byte === 10) lines++;
    }
    const seconds = (performance.now() - started) / 1000;
    sampling = false;
    await sampler;
    return { maxRows, status: response.status, rows: lines - 1, mb: +(bytes / 1e6).toFixed(1), seconds: +seconds.toFixed(2), rowsPerSecond: Math.round((lines - 1) / seconds), rssBeforeMb: +(before / 1024).toFixed(1), rssRiseMb: +((peak - before) / 1024).toFixed(1) };
  };
  const results: Array<Awaited<ReturnType<typeof exportOnce>>> = [];
  for (let round = 0; round < rounds; round++) {
    results.push(await exportOnce(small));
    results.push(await exportOnce(events));
  }
  await server.stop();
  const rise = (rows: number) => median(results.filter((result) => result.maxRows === rows).map((result) => result.rssRiseMb));
  console.log(JSON.stringify({ events, small, rounds, loadavg: loadavg().map((value) => +value.toFixed(2)), results, medianRssRiseMb: { small: rise(small), large: rise(events) } }, null, 2));
} finally {
  await database.drop();
  await rm(dataDir, { recursive: true, force: true });
}
