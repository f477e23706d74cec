import { describe, expect, it } from 'vitest';
import { auroraMaxConnections, parseStageConfig, StageConfigError } from '../../lib/stage-config.js';
import { MAX_RETENTION_DAYS } from '../../lambdas/shared/domain/limits.js';
import { stageConfig } from './support.js';

describe('stage config', () => {
  it('parses every stage of cdk.json', () => {
    expect(['dev', 'staging', 'prod'].map((stage) => stageConfig(stage as 'dev').stage)).toEqual(['dev', 'staging', 'prod']);
  });

  it('names every missing or wrong key at once', () => {
    const { account: _missing, ...rest } = stageConfig('dev');
    const broken = { ...rest, region: 'mars', alarmEmail: 'nobody', writer: { ...rest.writer, batchSize: 0 }, extra: true };

    let message = '';
    try {
      parseStageConfig('dev', broken);
    } catch (error) {
      expect(error).toBeInstanceOf(StageConfigError);
      message = (error as Error).message;
    }

    for (const key of ['stages.dev.account', 'stages.dev.region', 'stages.dev.alarmEmail', 'stages.dev.writer.batchSize', 'extra']) expect(message).toContain(key);
  });

  it('refuses writers x pool size above half of the connections at minimum capacity', () => {
    const dev = stageConfig('dev');
    const budget = Math.floor(auroraMaxConnections(dev.database.minCapacityAcu) / 2);
    const tooMany = { ...dev, writer: { ...dev.writer, maxConcurrency: budget, dbPoolSize: 2 } };
    expect(() => parseStageConfig('dev', tooMany)).toThrow(/writer\.maxConcurrency/);
  });

  it('refuses prod without deletion protection', () => {
    const prod = stageConfig('prod');
    expect(() => parseStageConfig('prod', { ...prod, database: { ...prod.database, deletionProtection: false } })).toThrow(/deletionProtection/);
  });

  it('refuses a silent-ingest period that is not whole 5-minute alarm periods or is longer than a day', () => {
    const dev = stageConfig('dev');
    for (const silentIngestMinutes of [7, 1445, 0]) {
      expect(() => parseStageConfig('dev', { ...dev, alarms: { silentIngestMinutes } })).toThrow(/alarms\.silentIngestMinutes/);
    }
  });

  describe('retention', () => {
    const dev = stageConfig('dev');
    const withRetention = (retention: Partial<typeof dev.retention>) => ({ ...dev, retention: { ...dev.retention, ...retention } });
    const TENANT = '0b9a5a52-6f0e-4c4e-9a51-0d6f2f1b7c11';

    it("refuses event or rollup days beyond what one queue message's 240 months allow", () => {
      expect(parseStageConfig('dev', withRetention({ eventDays: MAX_RETENTION_DAYS, rollupDays: MAX_RETENTION_DAYS })).retention.eventDays).toBe(MAX_RETENTION_DAYS);
      expect(() => parseStageConfig('dev', withRetention({ eventDays: MAX_RETENTION_DAYS + 1 }))).toThrow(/retention\.eventDays/);
      expect(() => parseStageConfig('dev', withRetention({ rollupDays: MAX_RETENTION_DAYS + 1 }))).toThrow(/retention\.rollupDays/);
    });

    it('refuses rollups kept for fewer days than the events they count', () => {
      expect(() => parseStageConfig('dev', withRetention({ eventDays: 400, rollupDays: 365 }))).toThrow(/retention\.rollupDays: must be at least eventDays \(400\)/);
    });

    it('lets a tenant keep its events shorter than the stage, never longer, and lists no tenant by default', () => {
      const { tenantEventDays: _unset, ...withoutTenants } = dev.retention;
      expect(parseStageConfig('dev', { ...dev, retention: withoutTenants }).retention.tenantEventDays).toEqual({});
      expect(parseStageConfig('dev', withRetention({ tenantEventDays: { [TENANT]: 30 } })).retention.tenantEventDays).toEqual({ [TENANT]: 30 });
      expect(() => parseStageConfig('dev', withRetention({ tenantEventDays: { [TENANT]: dev.retention.eventDays + 1 } }))).toThrow(new RegExp(`retention\\.tenantEventDays\\.${TENANT}: must be at most eventDays`));
      expect(() => parseStageConfig('dev', withRetention({ tenantEventDays: { 'tenant-a': 30 } }))).toThrow(/retention\.tenantEventDays/);
    });
  });
});
