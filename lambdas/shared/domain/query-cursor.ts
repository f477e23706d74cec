import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from './errors.js';

/** The position after the last event of a page: keyset (timestamp, id) in the page's order. */
export interface CursorPosition {
  timestamp: string;
  eventId: string;
}

const PayloadSchema = z.strictObject({ t: z.iso.datetime({ offset: true }), id: z.uuid(), f: z.string().length(16) });

/** Binds a cursor to its tenant and filters: it cannot continue a different query. */
function fingerprint(tenantId: string, filters: unknown): string {
  return createHash('sha256').update(tenantId).update('\u0000').update(JSON.stringify(filters)).digest('base64url').slice(0, 16);
}

function sign(tenantId: string, payload: string): Buffer {
  // The key is per tenant, not a secret: a cursor grants nothing (the tenant comes from the
  // token, rows from row-level security); the MAC only makes an edited cursor a clear 400.
  return createHmac('sha256', `event-tracker-cursor:${tenantId}`).update(payload).digest().subarray(0, 16);
}

export function encodeCursor(tenantId: string, filters: unknown, position: CursorPosition): string {
  const payload = Buffer.from(JSON.stringify({ t: position.timestamp, id: position.eventId, f: fingerprint(tenantId, filters) })).toString('base64url');
  return `${payload}.${sign(tenantId, payload).toString('base64url')}`;
}

const invalid = (message: string) => new ValidationError([{ path: 'cursor', message }]);

/** The position a cursor points at, or a 400 naming `cursor` if it was edited or belongs elsewhere. */
export function decodeCursor(tenantId: string, filters: unknown, cursor: string): CursorPosition {
  const [payload, mac, ...rest] = cursor.split('.');
  if (!payload || !mac || rest.length > 0) throw invalid('is not a cursor from this API');
  const expected = sign(tenantId, payload);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid('was modified or belongs to another tenant');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid('is not a cursor from this API');
  }
  const position = PayloadSchema.safeParse(parsed);
  if (!position.success) throw invalid('is not a cursor from this API');
  if (position.data.f !== fingerprint(tenantId, filters)) throw invalid('belongs to a query with other filters');
  return { timestamp: position.data.t, eventId: position.data.id };
}
