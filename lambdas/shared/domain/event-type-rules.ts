import { createHash } from 'node:crypto';
import type { AnalyticsEventInput } from './event-schemas.js';
import type { FieldIssue } from './errors.js';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** The checks of DESIGN.md's type table that a schema alone cannot express. */
export function checkTypeRules(event: AnalyticsEventInput): FieldIssue[] {
  switch (event.type) {
    case 'USER_ACTION':
      return event.userId || event.sessionId
        ? []
        : [{ path: 'userId', message: 'USER_ACTION events need a userId or a sessionId' }];
    case 'PERFORMANCE':
      if (event.value === undefined) return [{ path: 'value', message: 'PERFORMANCE events need a value (duration in ms)' }];
      return event.value < 0 ? [{ path: 'value', message: 'a duration cannot be negative' }] : [];
    case 'BUSINESS': {
      if (event.value === undefined) return [];
      const currency = event.properties['currency'];
      return typeof currency === 'string' && CURRENCIES.has(currency)
        ? []
        : [{ path: 'properties.currency', message: 'a BUSINESS value needs an ISO 4217 currency code' }];
    }
    default:
      return [];
  }
}

/** An ERROR event's message: the first non-empty text of properties.message, properties.error, the label and (for the fingerprint) the action. */
export function errorMessage(event: { properties: Record<string, unknown>; label?: string | null | undefined; action?: string }): string | undefined {
  return [event.properties['message'], event.properties['error'], event.label, event.action].find(
    (candidate): candidate is string => typeof candidate === 'string' && candidate.length > 0,
  );
}

/**
 * Error messages differ only by ids, numbers and quoted values between repeats of one fault;
 * those are blanked so the same fault always gets the same fingerprint.
 */
export function errorFingerprint(event: Pick<AnalyticsEventInput, 'category' | 'action' | 'label' | 'properties'>): string {
  const message = errorMessage(event);
  const normalised = (message ?? '')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/0x[0-9a-f]+/gi, '<hex>')
    .replace(/(["'`]).*?\1/g, '<str>')
    .replace(/\d+/g, '<n>')
    .trim();
  return createHash('sha256').update(`${event.category}\u0000${event.action}\u0000${normalised}`).digest('hex').slice(0, 16);
}

/** Server-side defaults per type: the metadata that is stored beside what the client sent. */
export function typeMetadata(event: AnalyticsEventInput): Record<string, unknown> {
  const metadata: Record<string, unknown> = { ...event.metadata };
  switch (event.type) {
    case 'SYSTEM_EVENT':
      metadata['source'] ??= 'system';
      break;
    case 'ERROR':
      metadata['severity'] ??= 'HIGH';
      metadata['fingerprint'] = errorFingerprint(event);
      break;
    case 'SECURITY':
      metadata['severity'] ??= 'MEDIUM';
      break;
    default:
      break;
  }
  return metadata;
}
