import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../lambdas/shared/domain/errors.js';
import type { EventAdmin } from '../../../../lambdas/shared/ports/event-admin.js';
import { purgeEvents } from '../../../../lambdas/shared/use-cases/administer-events.js';

/** An admin port that records the cut-offs it is asked to purge before. */
function recordingAdmin(): EventAdmin & { cutoffs: string[] } {
  const cutoffs: string[] = [];
  return {
    cutoffs,
    async purgeOlderThan(_who, olderThan) {
      cutoffs.push(olderThan);
      return 0;
    },
    listAudit: async () => [],
    retentionRuns: async () => ({ runs: [], lastRun: null }),
  };
}

const who = { tenantId: '11111111-1111-4111-8111-111111111111', subject: 'tester' };
const now = new Date('2026-06-01T12:00:00.000Z');

describe('purgeEvents', () => {
  it('purges before a cut-off up to now itself, as UTC', async () => {
    const admin = recordingAdmin();

    await purgeEvents(admin, who, { olderThan: '2026-06-01T14:00:00+02:00' }, now);

    expect(admin.cutoffs).toEqual(['2026-06-01T12:00:00.000Z']);
  });

  it('refuses a cut-off a millisecond after now, naming olderThan, and purges nothing', async () => {
    const admin = recordingAdmin();

    const refused = purgeEvents(admin, who, { olderThan: '2026-06-01T12:00:00.001Z' }, now);

    await expect(refused).rejects.toThrow(ValidationError);
    await expect(refused).rejects.toMatchObject({ issues: [{ path: 'olderThan', message: 'must not be in the future' }] });
    expect(admin.cutoffs).toEqual([]);
  });
});
