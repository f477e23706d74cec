import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_A } from '../../support/factories.js';
import { startTestRuntime, type RunningRuntime } from '../../support/local-runtime.js';

const ALLOWED = 'https://app.example.com';
let app: RunningRuntime;
let previous: string | undefined;

beforeAll(async () => {
  // Handlers read CORS_ORIGINS as deployed functions do; the gateway emulator gets the same list.
  previous = process.env['CORS_ORIGINS'];
  process.env['CORS_ORIGINS'] = ALLOWED;
  app = await startTestRuntime({ corsOrigins: [ALLOWED] });
});

afterAll(async () => {
  await app.stop();
  if (previous === undefined) delete process.env['CORS_ORIGINS'];
  else process.env['CORS_ORIGINS'] = previous;
});

describe('CORS allow-list', () => {
  it('answers a preflight from an allowed origin, and not from another', async () => {
    const allowed = await fetch(`${app.runtime.url}/v1/events/batch`, { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': 'POST' } });
    const other = await fetch(`${app.runtime.url}/v1/events/batch`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('puts the allowed origin on real answers, errors included', async () => {
    const token = await app.token(TENANT_A);
    const ok = await fetch(`${app.runtime.url}/v1/events`, { method: 'POST', headers: { origin: ALLOWED, authorization: `Bearer ${token}` }, body: JSON.stringify({ type: 'CUSTOM', category: 'c', action: 'a' }) });
    const bad = await fetch(`${app.runtime.url}/v1/events`, { method: 'POST', headers: { origin: ALLOWED, authorization: `Bearer ${token}` }, body: '{' });
    const other = await fetch(`${app.runtime.url}/v1/events`, { method: 'POST', headers: { origin: 'https://evil.example', authorization: `Bearer ${token}` }, body: '{}' });
    expect([ok.status, bad.status]).toEqual([202, 400]);
    expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(bad.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    await app.runtime.eventSource.drained();
  });
});
