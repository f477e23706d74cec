import { AnalyticsEventSchema, type AnalyticsEventInput, type TrackedEvent } from './event-schemas.js';
import { resolveEventTimestamp } from './event-timestamps.js';
import { checkTypeRules, typeMetadata } from './event-type-rules.js';
import type { FieldIssue } from './errors.js';
import { MAX_EVENT_BYTES } from './limits.js';
import { maskJson, maskText, truncateIp, type PiiPolicy } from './pii-masking.js';
import { zodIssues } from './zod-issues.js';

export interface PrepareContext {
  receivedAt: Date;
  sentAt?: string;
  piiPolicy: PiiPolicy;
  retentionDays: number;
  newEventId: () => string;
}

export type PreparedEvent = { ok: true; event: TrackedEvent } | { ok: false; issues: FieldIssue[]; tooLarge?: boolean };

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Turns one raw item of a request into the event that is queued: validate, apply the type
 * rules, settle the timestamp, mask PII. Nothing leaves this function unmasked.
 */
export function prepareEvent(raw: unknown, ctx: PrepareContext): PreparedEvent {
  // 1. Size first: parsing a huge item would waste the time the limit is there to save.
  const bytes = Buffer.byteLength(JSON.stringify(raw) ?? '');
  if (bytes > MAX_EVENT_BYTES) {
    return { ok: false, tooLarge: true, issues: [{ path: '', message: `event is ${bytes} bytes; the limit is ${MAX_EVENT_BYTES}` }] };
  }

  // 2. Shape.
  const parsed = AnalyticsEventSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error) };
  return prepareValidEvent(parsed.data, ctx);
}

/**
 * `prepareEvent` from its type rules on, for an input that meets `AnalyticsEventSchema`: parsed
 * by it, or built by a mapping that checks the same rules as it builds (the Segment one, held to
 * the schema by its property test), which then need not be parsed a second time.
 */
export function prepareValidEvent(input: AnalyticsEventInput, ctx: PrepareContext): PreparedEvent {
  // 2b. Type rules.
  const ruleIssues = checkTypeRules(input);
  if (ruleIssues.length > 0) return { ok: false, issues: ruleIssues };

  // 3. Timestamp: skew-corrected, clamped, and within retention.
  const { timestamp, originalTimestamp } = resolveEventTimestamp({
    clientTimestamp: input.timestamp,
    sentAt: ctx.sentAt,
    receivedAt: ctx.receivedAt,
  });
  if (timestamp.getTime() < ctx.receivedAt.getTime() - ctx.retentionDays * DAY_MS) {
    return { ok: false, issues: [{ path: 'timestamp', message: `is older than the ${ctx.retentionDays}-day retention` }] };
  }

  // 4. Enrich and mask.
  const metadata = typeMetadata(input);
  if (originalTimestamp) metadata['originalTimestamp'] = originalTimestamp;
  const context: Record<string, unknown> = { ...input.context };
  if (input.context?.ipAddress && ctx.piiPolicy.detectors.has('ip')) context['ipAddress'] = truncateIp(input.context.ipAddress);

  return {
    ok: true,
    event: {
      eventId: input.id ?? ctx.newEventId(),
      timestamp: timestamp.toISOString(),
      type: input.type,
      category: input.category,
      action: input.action,
      label: input.label === undefined ? null : maskText(input.label, ctx.piiPolicy),
      value: input.value ?? null,
      userId: input.userId ?? null,
      sessionId: input.sessionId ?? null,
      properties: maskJson(input.properties, ctx.piiPolicy) as Record<string, unknown>,
      context,
      metadata,
      receivedAt: ctx.receivedAt.toISOString(),
    },
  };
}
