import type { StoredEvent } from './answer-schemas.js';

/** The export's columns, in order: the event as the API answers it. */
export const EXPORT_COLUMNS = [
  'eventId',
  'timestamp',
  'eventType',
  'category',
  'action',
  'label',
  'value',
  'userId',
  'sessionId',
  'properties',
  'context',
  'metadata',
  'receivedAt',
  'storedAt',
] as const;

/**
 * Spreadsheets run a cell that starts with one of these as a formula (`=cmd|' /C calc'!A0`,
 * `@SUM(...)`, a tab or CR before one); event text comes from anyone with a write key (OWASP,
 * "CSV Injection"). A leading quote makes the cell text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell: inert, then quoted as RFC 4180 asks when it holds a quote, a comma or a line break. */
export function csvCell(text: string): string {
  const inert = FORMULA_START.test(text) ? `'${text}` : text;
  return NEEDS_QUOTES.test(inert) ? `"${inert.replaceAll('"', '""')}"` : inert;
}

/** One CSV record, CRLF-terminated (RFC 4180). */
export const csvRecord = (cells: readonly string[]): string => `${cells.map(csvCell).join(',')}\r\n`;

export const CSV_HEADER = csvRecord(EXPORT_COLUMNS);

/** An event as a record: null is an empty cell, objects are JSON text. */
export function eventCsvRecord(event: StoredEvent): string {
  return csvRecord([
    event.eventId,
    event.timestamp,
    event.type,
    event.category,
    event.action,
    event.label ?? '',
    event.value === null ? '' : String(event.value),
    event.userId ?? '',
    event.sessionId ?? '',
    JSON.stringify(event.properties),
    JSON.stringify(event.context),
    JSON.stringify(event.metadata),
    event.receivedAt,
    event.storedAt,
  ]);
}

/** `2026-11-01T00:00:00.000Z` -> `20261101T000000Z`: no colons, which some file systems refuse. */
const compactInstant = (iso: string): string => iso.replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');

/** The download's name: `events-<from>-<to>.csv`. */
export const exportFilename = (range: { startTime: string; endTime: string }): string => `events-${compactInstant(range.startTime)}-${compactInstant(range.endTime)}.csv`;
