import { describe, expect, it } from 'vitest';
import { AnalyticsEventSchema } from '../../../../lambdas/shared/domain/event-schemas.js';
import { checkTypeRules, errorFingerprint, typeMetadata } from '../../../../lambdas/shared/domain/event-type-rules.js';

const event = (input: Record<string, unknown>) => AnalyticsEventSchema.parse({ category: 'c', action: 'a', ...input });

describe('checkTypeRules', () => {
  it('needs a userId or sessionId on USER_ACTION', () => {
    expect(checkTypeRules(event({ type: 'USER_ACTION' }))).toEqual([{ path: 'userId', message: expect.any(String) }]);
    expect(checkTypeRules(event({ type: 'USER_ACTION', sessionId: 's1' }))).toEqual([]);
  });

  it('needs a non-negative duration on PERFORMANCE', () => {
    expect(checkTypeRules(event({ type: 'PERFORMANCE' }))[0]?.path).toBe('value');
    expect(checkTypeRules(event({ type: 'PERFORMANCE', value: -1 }))[0]?.path).toBe('value');
    expect(checkTypeRules(event({ type: 'PERFORMANCE', value: 0 }))).toEqual([]);
  });

  it('needs an ISO 4217 currency with a BUSINESS value', () => {
    expect(checkTypeRules(event({ type: 'BUSINESS', value: 10 }))[0]?.path).toBe('properties.currency');
    expect(checkTypeRules(event({ type: 'BUSINESS', value: 10, properties: { currency: 'XXY' } }))[0]?.path).toBe('properties.currency');
    expect(checkTypeRules(event({ type: 'BUSINESS', value: 10, properties: { currency: 'EUR' } }))).toEqual([]);
    expect(checkTypeRules(event({ type: 'BUSINESS' }))).toEqual([]);
  });
});

describe('typeMetadata', () => {
  it('defaults the source of SYSTEM_EVENT and the severity of ERROR and SECURITY', () => {
    expect(typeMetadata(event({ type: 'SYSTEM_EVENT' }))).toEqual({ source: 'system' });
    expect(typeMetadata(event({ type: 'ERROR' }))).toMatchObject({ severity: 'HIGH', fingerprint: expect.any(String) });
    expect(typeMetadata(event({ type: 'SECURITY' }))).toEqual({ severity: 'MEDIUM' });
    expect(typeMetadata(event({ type: 'SECURITY', metadata: { severity: 'CRITICAL' } }))).toEqual({ severity: 'CRITICAL' });
    expect(typeMetadata(event({ type: 'CUSTOM' }))).toEqual({});
  });
});

describe('errorFingerprint', () => {
  it('groups repeats of one fault that differ only by ids and numbers', () => {
    const first = errorFingerprint(event({ type: 'ERROR', properties: { message: 'Timeout after 3000ms for order 5f1c1b3e-8d4f-4a53-9b8e-2a7d7f1b2c3d' } }));
    const repeat = errorFingerprint(event({ type: 'ERROR', properties: { message: 'Timeout after 2950ms for order 0e2a1b3e-8d4f-4a53-9b8e-2a7d7f1b2c3d' } }));
    const other = errorFingerprint(event({ type: 'ERROR', properties: { message: 'Connection refused' } }));
    expect(first).toBe(repeat);
    expect(first).not.toBe(other);
  });
});
