import { describe, expect, it, vi } from 'vitest';
import { DirEventArchive } from '../../../lambdas/shared/adapters/local/dir-event-archive.js';
import { PgEventStore } from '../../../lambdas/shared/adapters/pg/pg-event-store.js';
import { envelope, received, TENANT_A, trackedEvent } from '../../support/factories.js';
import { startTestRuntime } from '../../support/local-runtime.js';
import { tempDirPerTest } from '../../support/temp-dir.js';

describe('the local runtime maintenance timer', () => {
  const archiveDir = tempDirPerTest('runtime-archive-');

  it('archives an expired month into ARCHIVE_DIR on its own', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const running = await startTestRuntime({ maintenanceIntervalMs: 100, archive: { bucket: undefined, dir: archiveDir() } });
    try {
      await new PgEventStore(running.runtime.db).writeMessages([
        received(envelope([trackedEvent({ timestamp: '2026-01-03T10:00:00.000Z', receivedAt: '2026-01-03T10:00:00.000Z' })], { tenantId: TENANT_A })),
      ]);

      let state: string | undefined;
      for (let attempt = 0; attempt < 300 && state !== 'dropped'; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        [{ state } = { state: undefined }] = await running.runtime.db.query<{ state: string }>(`SELECT state FROM retention_runs WHERE partition_month = '2026-01-01'`);
      }

      expect(state).toBe('dropped');
      expect(await new DirEventArchive(archiveDir()).list('events/2026-01/')).toEqual([`events/2026-01/run-1/${TENANT_A}.jsonl.gz`, 'events/2026-01/run-1/manifest.json']);
    } finally {
      await running.stop();
      vi.restoreAllMocks();
    }
  }, 60_000);
});
