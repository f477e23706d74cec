import { describe, expect, it } from 'vitest';
import { auroraMaxConnections, functionConnections, OPERATOR_CONNECTIONS, parseStageConfig, StageConfigError, supportsAutoPause } from '../../lib/stage-config.js';
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

  it('refuses more function connections than the smallest running capacity has, naming the writer and the query functions', () => {
    const dev = stageConfig('dev');
    // A paused instance resumes at 0.5 ACU: that is the smallest it runs at.
    const budget = auroraMaxConnections(0.5) - OPERATOR_CONNECTIONS;
    expect(functionConnections(dev).total).toBeLessThanOrEqual(budget);
    const tooManyWriters = { ...dev, writer: { ...dev.writer, maxConcurrency: Math.ceil(budget / dev.writer.dbPoolSize) } };
    expect(() => parseStageConfig('dev', tooManyWriters)).toThrow(/writer\.maxConcurrency: writer\.maxConcurrency x writer\.dbPoolSize/);
    const tooManyReaders = { ...dev, queries: { reservedConcurrency: 20 } };
    expect(() => parseStageConfig('dev', tooManyReaders)).toThrow(/queries\.reservedConcurrency: .* at 0\.5 ACU the functions may hold 102/);
  });

  it('counts every connection: writers x pool, reserved query instances (and the stream resume reader) x their pools, the maintenance and migration pools', () => {
    expect(functionConnections(stageConfig('dev'))).toEqual({ writer: 2 * 2, queries: 2 * 16, jobs: 3, total: 39 });
    expect(functionConnections(stageConfig('prod'))).toEqual({ writer: 20 * 2, queries: 10 * 16, jobs: 3, total: 203 });
  });

  describe('pausing', () => {
    const dev = stageConfig('dev');
    const withDatabase = (database: Partial<typeof dev.database>) => ({ ...dev, database: { ...dev.database, ...database } });

    it('pauses dev without the proxy and keeps prod on a floor behind it', () => {
      expect(dev.database).toMatchObject({ minCapacityAcu: 0, proxy: false, autoPauseSeconds: 300 });
      expect(stageConfig('prod').database).toMatchObject({ minCapacityAcu: 2, proxy: true });
      expect(stageConfig('prod').database).not.toHaveProperty('autoPauseSeconds');
    });

    it('knows which Aurora PostgreSQL versions can pause', () => {
      expect(['16.3', '16.6', '15.7', '14.12', '13.15', '17.4'].every(supportsAutoPause)).toBe(true);
      expect(['16.2', '15.6', '14.11', '13.14', '12.20'].some(supportsAutoPause)).toBe(false);
    });

    it('refuses a 0 floor with the proxy on, on an engine that cannot pause, or without a pause delay', () => {
      expect(() => parseStageConfig('dev', withDatabase({ proxy: true }))).toThrow(/stages\.dev\.database\.proxy: must be false when database\.minCapacityAcu is 0/);
      expect(() => parseStageConfig('dev', withDatabase({ engineVersion: '16.2' }))).toThrow(/stages\.dev\.database\.minCapacityAcu: 0 needs an engine version that can pause.*16\.2/);
      expect(() => parseStageConfig('dev', withDatabase({ autoPauseSeconds: undefined }))).toThrow(/stages\.dev\.database\.autoPauseSeconds: is required/);
    });

    it('refuses a pause delay on a stage with a floor, or outside 5 minutes to a day', () => {
      expect(() => parseStageConfig('dev', withDatabase({ minCapacityAcu: 0.5 }))).toThrow(/database\.autoPauseSeconds: only applies/);
      for (const autoPauseSeconds of [299, 86_401]) expect(() => parseStageConfig('dev', withDatabase({ autoPauseSeconds }))).toThrow(/database\.autoPauseSeconds/);
    });

    it('runs maintenance a whole number of times a day', () => {
      for (const everyHours of [5, 0, 48]) expect(() => parseStageConfig('dev', { ...dev, maintenance: { ...dev.maintenance, everyHours } })).toThrow(/maintenance\.everyHours/);
    });

    it('paces maintenance at a duty cycle in (0, 1]', () => {
      for (const dutyCycle of [0, 1.5]) expect(() => parseStageConfig('dev', { ...dev, maintenance: { ...dev.maintenance, dutyCycle } })).toThrow(/maintenance\.dutyCycle/);
    });
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
