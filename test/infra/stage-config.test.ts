import { describe, expect, it } from 'vitest';
import { auroraMaxConnections, parseStageConfig, StageConfigError } from '../../lib/stage-config.js';
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
});
