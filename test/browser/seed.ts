import { randomUUID } from 'node:crypto';

const HOUR = 3_600_000;

/** A script tag, an image whose error handler runs script, a javascript: URL, a CSV formula. */
export const HOSTILE = {
  category: '<script>window.__pwned="category"</script>',
  action: '<img src=x onerror="window.__pwned=\'action\'">',
  label: 'javascript:alert(document.domain)',
  propertyKey: '<img src=x onerror=alert(1)>',
  propertyValue: '=cmd|\' /C calc\'!A0',
} as const;

/**
 * Events of the last seven days for the browser tests and the screenshots: every type, a few
 * categories and actions, PERFORMANCE durations, ERROR messages, and one hostile event.
 */
export function seedEvents(now = Date.now(), count = 400): Record<string, unknown>[] {
  const users = Array.from({ length: 12 }, () => randomUUID());
  const categories = ['checkout', 'auth', 'search', 'navigation'];
  const actions = ['view', 'click', 'submit', 'fail'];
  const events: Record<string, unknown>[] = [];
  for (let index = 0; index < count; index++) {
    const timestamp = new Date(now - ((index * 7919) % (7 * 24 * 60)) * 60_000 - 5 * 60_000).toISOString();
    const user = users[index % users.length] as string;
    const category = categories[index % categories.length] as string;
    const action = actions[(index >> 2) % actions.length] as string;
    const base = { timestamp, category, action, userId: user, sessionId: `s-${index % 30}`, properties: { plan: index % 3 === 0 ? 'pro' : 'free', page: `/p/${index % 9}` } };
    const kind = index % 10;
    if (kind < 5) events.push({ ...base, type: 'USER_ACTION' });
    else if (kind < 7) events.push({ ...base, type: 'PERFORMANCE', category: 'api', action: 'request', value: 40 + ((index * 37) % 400) });
    else if (kind === 7) events.push({ ...base, type: 'ERROR', category: 'api', action: 'timeout', label: `upstream ${index % 3} timed out` });
    else if (kind === 8) events.push({ ...base, type: 'SYSTEM_EVENT', category: 'jobs', action: 'complete' });
    else events.push({ ...base, type: 'BUSINESS', category: 'billing', action: 'pay', value: 19 + (index % 5) * 10, properties: { currency: 'EUR', plan: 'pro' } });
  }
  events.push({
    type: 'CUSTOM',
    timestamp: new Date(now - HOUR).toISOString(),
    category: HOSTILE.category,
    action: HOSTILE.action,
    label: HOSTILE.label,
    sessionId: 's-hostile',
    properties: { [HOSTILE.propertyKey]: HOSTILE.propertyValue, link: HOSTILE.label },
  });
  return events;
}

/** Sends the events in batches of 500 through the API, as a client would. */
export async function sendEvents(url: string, token: string, events: Record<string, unknown>[]): Promise<void> {
  for (let start = 0; start < events.length; start += 500) {
    const response = await fetch(`${url}/v1/events/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events: events.slice(start, start + 500) }),
    });
    const receipt = (await response.json()) as { failed?: unknown[] };
    if (!response.ok || (receipt.failed?.length ?? 0) > 0) throw new Error(`seeding failed: ${response.status} ${JSON.stringify(receipt).slice(0, 500)}`);
  }
}
