import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../lambdas/shared/domain/errors.js';
import { arrayPaths } from '../../../../lambdas/shared/domain/property-filter.js';
import { decodeCursor, encodeCursor } from '../../../../lambdas/shared/domain/query-cursor.js';
import { TENANT_A, TENANT_B } from '../../../support/factories.js';

const position = { timestamp: '2026-11-01T10:00:00.000Z', eventId: 'c0ffee00-1234-4abc-8def-0123456789ab' };
const filters = { startTime: 'a', endTime: 'b', categories: ['x'] };

describe('query cursor', () => {
  it('gives back the position it was made from', () => {
    expect(decodeCursor(TENANT_A, filters, encodeCursor(TENANT_A, filters, position))).toEqual(position);
  });

  it('refuses another tenant, other filters, an edited payload and garbage, naming cursor', () => {
    const cursor = encodeCursor(TENANT_A, filters, position);
    const [payload = '', mac = ''] = cursor.split('.');
    const forged = `${Buffer.from(JSON.stringify({ t: position.timestamp, id: position.eventId, f: 'x'.repeat(16) })).toString('base64url')}.${mac}`;
    for (const [tenant, withFilters, token] of [
      [TENANT_B, filters, cursor],
      [TENANT_A, { ...filters, categories: ['y'] }, cursor],
      [TENANT_A, filters, forged],
      [TENANT_A, filters, `${payload}`],
      [TENANT_A, filters, '..'],
    ] as const) {
      expect(() => decodeCursor(tenant, withFilters, token)).toThrow(ValidationError);
    }
  });
});

describe('arrayPaths', () => {
  it('finds array values at any depth, and nothing else', () => {
    expect(arrayPaths({ a: 1, tags: ['x'], nested: { list: [1, 2], deep: { s: 's' } } })).toEqual([
      { path: ['tags'], value: ['x'] },
      { path: ['nested', 'list'], value: [1, 2] },
    ]);
  });
});
