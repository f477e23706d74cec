import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { SignJWT } from 'jose';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../lambdas/shared/adapters/jwt/mint-token.js';
import { startTestRuntime, TEST_SECRET, type RunningRuntime } from '../support/local-runtime.js';
import { startFakeHostedUi, type FakeHostedUi } from './fake-hosted-ui.js';
import { HOSTILE, seedEvents, sendEvents } from './seed.js';

const CHROMIUM = '/usr/bin/chromium';
const TENANT = '00000000-0000-4000-8000-0000000000b1';
/** `SCREENSHOTS=1` also saves each view at both widths under docs/screenshots/. */
const SCREENSHOTS = process.env['SCREENSHOTS'] === '1';
const WIDTHS = [1280, 390] as const;
/** Bounds only a broken page reaches: the machine runs other suites beside this one. */
const VIEW_BOUND_MS = 60_000;

if (!existsSync(CHROMIUM)) console.warn(`Skipping the dashboard's browser tests: ${CHROMIUM} is missing (apt-get install chromium).`);

describe.skipIf(!existsSync(CHROMIUM))('the dashboard in headless Chromium', () => {
  let running: RunningRuntime;
  let browser: Browser;
  let url: string;
  let admin: string;
  let reader: string;
  let hostileId: string;

  beforeAll(async () => {
    running = await startTestRuntime();
    url = running.runtime.url;
    admin = await running.token(TENANT, ['events:write', 'events:read', 'admin']);
    reader = await running.token(TENANT, ['events:read']);
    await sendEvents(url, admin, seedEvents());
    await running.runtime.eventSource.drained();
    const found = await fetch(`${url}/v1/events/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' },
      body: JSON.stringify({ startTime: new Date(Date.now() - 86_400_000).toISOString(), endTime: new Date().toISOString(), sessionId: 's-hostile' }),
    });
    hostileId = ((await found.json()) as { events: Array<{ eventId: string }> }).events[0]?.eventId ?? '';
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
  });

  interface Watched {
    context: BrowserContext;
    page: Page;
    /** Dialogs opened and page errors thrown: both must stay empty. */
    dialogs: string[];
    errors: string[];
  }

  /** A fresh tab (its own sessionStorage), signed in with `token` through the page's storage when given. */
  async function open(width: number, token?: string): Promise<Watched> {
    const context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true });
    if (token) await context.addInitScript(`sessionStorage.setItem('event-tracker.token', ${JSON.stringify(token)})`);
    const page = await context.newPage();
    const dialogs: string[] = [];
    const errors: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => errors.push(error.message));
    return { context, page, dialogs, errors };
  }

  async function shot(page: Page, name: string, width: number): Promise<void> {
    if (!SCREENSHOTS) return;
    await mkdir('docs/screenshots', { recursive: true });
    await page.screenshot({ path: `docs/screenshots/${name}-${width}.png`, fullPage: true });
  }

  it('serves the app with a Content-Security-Policy that allows no inline script or style', async () => {
    const page = await fetch(`${url}/`);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const html = await page.text();
    expect(html).not.toMatch(/<script>|<style|style=/);
    expect(await (await fetch(`${url}/config.json`)).json()).toEqual({ apiBase: '', auth: { mode: 'token' } });
  });

  it('signs in with a pasted token and keeps it out of the URL', async () => {
    const { page, context } = await open(1280);
    await page.goto(`${url}/#/overview?period=7d`);
    await page.fill('textarea[name=token]', admin);
    await shot(page, 'signin', 1280);
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-overview=complete]', { timeout: VIEW_BOUND_MS });
    expect(page.url()).toContain('#/overview?period=7d');
    expect(page.url()).not.toContain(admin.slice(0, 20));
    expect(await page.textContent('[data-tenant]')).toBe(TENANT);
    await context.close();
  });

  it('shows sign-in with the reason for a token the server refuses', async () => {
    const { page, context } = await open(1280);
    const forged = await mintToken({ secret: 'another-secret-that-is-at-least-32-chars', tenantId: TENANT, subject: 'mallory', scopes: ['events:read', 'admin'] });
    await page.goto(`${url}/#/explorer?category=checkout`);
    await page.fill('textarea[name=token]', forged);
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.signin [role=alert]'), { timeout: VIEW_BOUND_MS }).toContain('refused');
    expect(await page.isVisible('textarea[name=token]')).toBe(true);
    expect(await page.evaluate("sessionStorage.getItem('event-tracker.token')")).toBeNull();
    expect(page.url()).toContain('#/explorer?category=checkout');
    await context.close();
  });

  it('draws the period asked for on the time axis, not only the days that have events, and still zooms by drag', async () => {
    const { page, context } = await open(1280, admin);
    await page.goto(`${url}/#/overview?period=30d&tz=UTC`);
    await page.waitForSelector('body[data-overview=complete]', { timeout: VIEW_BOUND_MS });
    const now = Date.now();
    for (const chart of ['#by-type .chart', '#performance .chart']) {
      // The seeded events cover the last 7 days; the axis spans the 30 asked for.
      expect(Date.parse((await page.getAttribute(chart, 'data-x-from')) ?? '')).toBeLessThanOrEqual(now - 30 * 86_400_000 + 60_000);
      // To the end of today's bucket, so that its bar is drawn whole.
      expect(Date.parse((await page.getAttribute(chart, 'data-x-to')) ?? '')).toBeGreaterThanOrEqual(Math.floor(now / 86_400_000) * 86_400_000 + 86_400_000);
    }
    // Dragging still zooms, and a double click goes back to the period.
    const span = async () => [await page.getAttribute('#by-type .chart', 'data-x-from'), await page.getAttribute('#by-type .chart', 'data-x-to')];
    const period = await span();
    const canvas = (await page.locator('#by-type canvas').first().boundingBox()) ?? { x: 0, y: 0, width: 0, height: 0 };
    await page.mouse.move(canvas.x + canvas.width * 0.3, canvas.y + canvas.height / 2);
    await page.mouse.down();
    await page.mouse.move(canvas.x + canvas.width * 0.6, canvas.y + canvas.height / 2, { steps: 5 });
    await page.mouse.up();
    const [from, to] = await span();
    expect(Date.parse(to ?? '') - Date.parse(from ?? '')).toBeLessThan(20 * 86_400_000);
    await page.mouse.dblclick(canvas.x + canvas.width / 2, canvas.y + canvas.height / 2);
    expect(await span()).toEqual(period);
    await context.close();
  });

  for (const width of WIDTHS) {
    it(`loads the overview at ${width} px: numbers with their change, charts, ranked panels, error groups, lag and live`, async () => {
      const { page, context, dialogs, errors } = await open(width, admin);
      await page.goto(`${url}/#/overview?period=7d&tz=UTC`);
      await page.waitForSelector('body[data-overview=complete]', { timeout: VIEW_BOUND_MS });
      expect(await page.textContent('[data-metric=events] .value')).toBe('401');
      expect(await page.textContent('[data-metric=events] .delta')).toContain('previous period');
      expect(await page.locator('#by-type canvas').count()).toBeGreaterThan(0);
      expect(await page.locator('#performance canvas').count()).toBeGreaterThan(0);
      expect(await page.textContent('#categories')).toContain('checkout');
      expect(await page.textContent('#actions')).toContain('request');
      expect(await page.textContent('#lag')).toContain('PERFORMANCE');
      const groups = (await page.textContent('#errors')) ?? '';
      expect(groups).toContain('timeout');
      expect(groups).not.toContain('not available');
      await expect.poll(() => page.getAttribute('[data-stream]', 'data-stream'), { timeout: VIEW_BOUND_MS }).toBe('open');
      // The horizontal scroll a page must not need at 390 px.
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1')).toBe(true);
      await shot(page, 'overview', width);
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    });
  }

  it('shows events stored while the overview is open in the live panel, the token offered as a subprotocol and not in the URL', async () => {
    const { page, context } = await open(1280, admin);
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.goto(`${url}/#/overview?period=1h`);
    // Open means the server found the token in Sec-WebSocket-Protocol and selected `bearer`.
    await expect.poll(() => page.getAttribute('[data-stream]', 'data-stream'), { timeout: VIEW_BOUND_MS }).toBe('open');
    await sendEvents(url, admin, [{ type: 'CUSTOM', category: 'live-check', action: 'arrived', sessionId: 's-live' }]);
    await expect.poll(() => page.textContent('.live-events'), { timeout: VIEW_BOUND_MS }).toContain('live-check / arrived');
    expect(sockets).toEqual([`${url.replace(/^http/, 'ws')}/v1/stream`]);
    await context.close();
  });

  it('changes the results and the URL when a period or filters change', async () => {
    const { page, context } = await open(1280, reader);
    await page.goto(`${url}/#/overview?period=7d&tz=UTC`);
    await page.waitForSelector('body[data-overview=complete]', { timeout: VIEW_BOUND_MS });
    await page.selectOption('select[name=period]', '1h');
    await expect.poll(() => page.url()).toContain('period=1h');
    await page.waitForSelector('body[data-overview=complete]', { timeout: VIEW_BOUND_MS });
    expect(Number(await page.textContent('[data-metric=events] .value'))).toBeLessThan(401);

    await page.goto(`${url}/#/explorer?period=7d&tz=UTC`);
    await page.waitForSelector('body[data-explorer=complete]', { timeout: VIEW_BOUND_MS });
    const all = Number(await page.getAttribute('[data-total]', 'data-total'));
    expect(all).toBeGreaterThan(40);
    await page.check('input[name=types][value=ERROR]');
    await page.click('.filters button[type=submit]');
    await expect.poll(() => page.url()).toContain('types=ERROR');
    await page.waitForSelector('body[data-explorer=complete]', { timeout: VIEW_BOUND_MS });
    await expect.poll(() => page.getAttribute('[data-total]', 'data-total')).toBe('40');
    const types = await page.locator('table.events tbody tr td:nth-child(2)').allTextContents();
    expect(new Set(types)).toEqual(new Set(['ERROR']));

    await page.fill('textarea[name=prop]', 'plan=pro');
    await page.uncheck('input[name=types][value=ERROR]');
    await page.click('.filters button[type=submit]');
    await expect.poll(() => page.url()).toContain('prop=plan%3Dpro');
    await expect.poll(() => page.getAttribute('[data-total]', 'data-total'), { timeout: VIEW_BOUND_MS }).not.toBe(String(all));
    // A reload keeps the filter: it lives in the URL.
    await page.reload();
    await page.waitForSelector('body[data-explorer=complete]', { timeout: VIEW_BOUND_MS });
    expect(await page.inputValue('textarea[name=prop]')).toBe('plan=pro');
    await context.close();
  });

  it('pages through results by cursor', async () => {
    const { page, context } = await open(1280, reader);
    await page.goto(`${url}/#/explorer?period=7d&limit=25`);
    await page.waitForSelector('body[data-explorer=complete]', { timeout: VIEW_BOUND_MS });
    const first = await page.locator('table.events tbody tr').first().textContent();
    await page.click('[data-next]');
    await expect.poll(() => page.url()).toContain('cursor=');
    await expect.poll(() => page.locator('table.events tbody tr').first().textContent(), { timeout: VIEW_BOUND_MS }).not.toBe(first);
    expect(await page.locator('table.events tbody tr').count()).toBe(25);
    expect(await page.textContent('#results')).toContain('a later page');
    await context.close();
  });

  it('names the field a 400 refuses, in words', async () => {
    const { page, context } = await open(1280, reader);
    await page.goto(`${url}/#/explorer?period=7d&user=not-a-uuid`);
    await page.waitForSelector('body[data-explorer=complete]', { timeout: VIEW_BOUND_MS });
    const alert = (await page.textContent('#results [role=alert]')) ?? '';
    expect(alert).toContain('400');
    expect(alert).toContain('userId');
    await context.close();
  });

  for (const width of WIDTHS) {
    it(`renders hostile event strings as text at ${width} px: no script runs, no dialog opens`, async () => {
      const { page, context, dialogs, errors } = await open(width, admin);
      await page.goto(`${url}/#/explorer?period=7d&tz=UTC&event=${hostileId}`);
      await page.waitForSelector('body[data-explorer=complete]', { timeout: VIEW_BOUND_MS });
      const detail = (await page.textContent('#event-detail')) ?? '';
      expect(detail).toContain(HOSTILE.category);
      expect(detail).toContain(HOSTILE.action);
      expect(detail).toContain(HOSTILE.label);
      expect(detail).toContain(HOSTILE.propertyKey);
      expect(detail).toContain(HOSTILE.propertyValue);
      expect(await page.textContent('table.events')).toContain(HOSTILE.category);
      await page.goto(`${url}/#/overview?period=7d&tz=UTC`);
      await page.waitForSelector('body[data-overview=complete]', { timeout: VIEW_BOUND_MS });
      expect(await page.textContent('#categories')).toContain(HOSTILE.category);
      // Nothing of the data became markup: the page's only script is the app's, it has no
      // image, and no link leads anywhere from data.
      expect(await page.evaluate("({ pwned: window.__pwned, scripts: document.scripts.length, images: document.images.length, links: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')) })")).toEqual({
        pwned: undefined,
        scripts: 1,
        images: 0,
        links: ['#main'],
      });
      await page.goto(`${url}/#/explorer?period=7d&tz=UTC&event=${hostileId}`);
      await page.waitForSelector('#event-detail', { timeout: VIEW_BOUND_MS });
      await shot(page, 'explorer', width);
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    });
  }

  /** The export's file: its header row, and no cell that starts a formula. */
  function expectInertCsv(csv: string): void {
    // RFC 4180 ends records with CRLF.
    expect(csv.split('\r\n')[0]).toBe('eventId,timestamp,eventType,category,action,label,value,userId,sessionId,properties,context,metadata,receivedAt,storedAt');
    // The formula sits inside the properties cell's JSON, and no cell may start a formula
    // (the route's prefixing of top-level cells is tested in dashboard-contract.test.ts).
    expect(csv).toContain('=cmd');
    expect(csv).not.toMatch(/(^|,)[=+@-]/m);
  }

  it('exports the current filter as CSV with formulas made inert, through a Blob where the browser has no save dialog API', async () => {
    const { page, context } = await open(1280, admin);
    // Firefox and Safari: no File System Access API.
    await context.addInitScript('delete Window.prototype.showSaveFilePicker; delete window.showSaveFilePicker');
    await page.goto(`${url}/#/explorer?period=7d&session=s-hostile`);
    await page.waitForSelector('body[data-explorer=complete]', { timeout: VIEW_BOUND_MS });
    const download = page.waitForEvent('download', { timeout: VIEW_BOUND_MS }).catch(() => undefined);
    await page.click('text=Export CSV');
    await expect.poll(() => page.textContent('#main > p[aria-live]'), { timeout: VIEW_BOUND_MS }).toMatch(/Exported/);
    const file = await download;
    expectInertCsv(await readFile((await file?.path()) ?? '', 'utf8'));
    await context.close();
  });

  it('streams the CSV export into the file the save dialog names, with no Blob in the tab', async () => {
    const { page, context } = await open(1280, admin);
    // Headless Chromium shows no dialog: this one answers with a file of the origin's private
    // file system, which takes the same writable stream a file on disk does.
    await context.addInitScript(`
      window.__blobUrls = 0;
      const createObjectURL = URL.createObjectURL.bind(URL);
      URL.createObjectURL = (blob) => { window.__blobUrls += 1; return createObjectURL(blob); };
      window.showSaveFilePicker = async (options) => {
        window.__suggestedName = options.suggestedName;
        return (await navigator.storage.getDirectory()).getFileHandle('export.csv', { create: true });
      };
    `);
    await page.goto(`${url}/#/explorer?period=7d&session=s-hostile`);
    await page.waitForSelector('body[data-explorer=complete]', { timeout: VIEW_BOUND_MS });
    await page.click('text=Export CSV');
    await expect.poll(() => page.textContent('#main > p[aria-live]'), { timeout: VIEW_BOUND_MS }).toMatch(/Exported [\d,]+ bytes to export\.csv/);
    expectInertCsv(await page.evaluate<string>("navigator.storage.getDirectory().then((root) => root.getFileHandle('export.csv')).then((file) => file.getFile()).then((file) => file.text())"));
    expect(await page.evaluate('window.__blobUrls')).toBe(0);
    expect(await page.evaluate('window.__suggestedName')).toMatch(/^events-\d{8}T\d{6}Z-\d{8}T\d{6}Z\.csv$/);
    await context.close();
  });

  for (const width of WIDTHS) {
    it(`loads the admin view at ${width} px: a write key shown once, the audit log by action, retention`, async () => {
      const { page, context, dialogs } = await open(width, admin);
      await page.goto(`${url}/#/admin`);
      await page.waitForSelector('body[data-admin=complete]', { timeout: VIEW_BOUND_MS });
      await page.fill('input[name=name]', `site ${width}`);
      await page.click('text=Create write key');
      const key = await page.locator('[data-new-key]').inputValue({ timeout: VIEW_BOUND_MS });
      expect(key).toMatch(/^wk_[0-9a-f]{16}_/);
      await expect.poll(() => page.textContent('#keys table'), { timeout: VIEW_BOUND_MS }).toContain(`site ${width}`);
      await page.click('text=Done, hide it');
      expect(await page.locator('[data-new-key]').count()).toBe(0);
      expect(await page.textContent('#keys')).not.toContain(key);
      await page.selectOption('select[name=action]', 'EVENTS_BATCH_PROCESSED');
      await expect.poll(() => page.url()).toContain('action=EVENTS_BATCH_PROCESSED');
      await page.waitForSelector('body[data-admin=complete]', { timeout: VIEW_BOUND_MS });
      const actions = await page.locator('#audit tbody tr td:nth-child(2)').allTextContents();
      expect(actions.length).toBeGreaterThan(0);
      expect(new Set(actions)).toEqual(new Set(['EVENTS_BATCH_PROCESSED']));
      const retention = (await page.textContent('#retention')) ?? '';
      expect(retention).toContain('Events kept');
      expect(retention).not.toContain('not available');
      await shot(page, 'admin', width);
      expect(dialogs).toEqual([]);
      await context.close();
    });
  }

  it('revokes a write key after a confirmation in the page', async () => {
    const { page, context, dialogs } = await open(1280, admin);
    await page.goto(`${url}/#/admin`);
    await page.waitForSelector('body[data-admin=complete]', { timeout: VIEW_BOUND_MS });
    await page.fill('input[name=name]', 'to revoke');
    await page.click('text=Create write key');
    await page.locator('[data-new-key]').waitFor({ timeout: VIEW_BOUND_MS });
    await page.click('button[aria-label="Revoke to revoke"]');
    await page.click('text=Confirm revoke');
    await expect.poll(() => page.locator('#keys tr', { hasText: 'to revoke' }).textContent(), { timeout: VIEW_BOUND_MS }).toContain('revoked');
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it('offers a read-only token no admin view and calls no admin route', async () => {
    const { page, context } = await open(1280, reader);
    const adminCalls: string[] = [];
    page.on('request', (request) => {
      if (/\/v1\/(keys|audit|admin)/.test(request.url())) adminCalls.push(request.url());
    });
    await page.goto(`${url}/#/overview?period=24h`);
    await page.waitForSelector('body[data-overview=complete]', { timeout: VIEW_BOUND_MS });
    expect(await page.locator('nav [data-view]').allTextContents()).toEqual(['Overview', 'Explorer']);
    await page.goto(`${url}/#/admin`);
    await expect.poll(() => page.textContent('#main')).toContain('needs a token with the admin scope');
    expect(await page.locator('#keys, #audit').count()).toBe(0);
    expect(adminCalls).toEqual([]);
    await context.close();
  });

  it('returns to sign-in when the token expires mid-session, keeping the filter in the URL', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 15;
    const token = await new SignJWT({ tenant_id: TENANT, scope: 'events:read' }).setProtectedHeader({ alg: 'HS256' }).setSubject('short').setIssuedAt().setExpirationTime(expiresAt).sign(new TextEncoder().encode(TEST_SECRET));
    const { page, context } = await open(1280, token);
    await page.goto(`${url}/#/explorer?period=7d&category=checkout`);
    await page.waitForSelector('body[data-explorer=complete]', { timeout: VIEW_BOUND_MS });
    await page.waitForTimeout(Math.max(0, (expiresAt + 1) * 1000 - Date.now()));
    await page.check('input[name=types][value=USER_ACTION]');
    await page.click('.filters button[type=submit]');
    await page.waitForSelector('textarea[name=token]', { timeout: VIEW_BOUND_MS });
    expect(await page.textContent('[data-signin-reason]')).toContain('Sign in again');
    expect(page.url()).toContain('category=checkout');
    expect(page.url()).toContain('types=USER_ACTION');
    // Signing in again lands on the same filtered view.
    await page.fill('textarea[name=token]', reader);
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-explorer=complete]', { timeout: VIEW_BOUND_MS });
    expect(await page.inputValue('input[name=category]')).toBe('checkout');
    await context.close();
  }, 120_000);
});

describe.skipIf(!existsSync(CHROMIUM))('the dashboard signing in at a Cognito hosted UI (a stand-in on loopback)', () => {
  const CLIENT_ID = 'dashboard-client';
  let hostedUi: FakeHostedUi;
  let running: RunningRuntime;
  let browser: Browser;
  let url: string;
  let seeded: number;

  beforeAll(async () => {
    hostedUi = await startFakeHostedUi({ clientId: CLIENT_ID, secret: TEST_SECRET, user: { tenantId: TENANT, groups: ['events:read', 'admin'] } });
    // As deployed: an issuer, and the API's and the dashboard's app clients as audiences.
    running = await startTestRuntime({ dashboardSignIn: { hostedUi: hostedUi.origin, clientId: CLIENT_ID }, auth: { jwtSecret: TEST_SECRET, issuer: hostedUi.origin, audience: ['api-client', CLIENT_ID] } });
    url = running.runtime.url;
    const events = seedEvents(Date.now(), 40);
    seeded = events.length;
    await sendEvents(url, await mintToken({ secret: TEST_SECRET, tenantId: TENANT, subject: 'seeder', scopes: ['events:write'], issuer: hostedUi.origin, audience: 'api-client' }), events);
    await running.runtime.eventSource.drained();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    await hostedUi?.close();
  });

  /** A fresh tab and every URL it requested or navigated to. */
  async function tab(token?: string): Promise<{ context: BrowserContext; page: Page; urls: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    if (token) await context.addInitScript(`sessionStorage.setItem('event-tracker.token', ${JSON.stringify(token)})`);
    const page = await context.newPage();
    const urls: string[] = [];
    page.on('request', (request) => urls.push(request.url()));
    page.on('framenavigated', (frame) => urls.push(frame.url()));
    return { context, page, urls };
  }

  const storedToken = (page: Page) => page.evaluate<string | null>("sessionStorage.getItem('event-tracker.token')");

  it('names the hosted UI in config.json and lets the page reach its token endpoint (connect-src)', async () => {
    const page = await fetch(`${url}/callback`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain(`connect-src 'self' ${hostedUi.origin}`);
    expect(await (await fetch(`${url}/config.json`)).json()).toEqual({
      apiBase: '',
      auth: { mode: 'cognito', domain: hostedUi.origin, clientId: CLIENT_ID, redirectUri: '/callback', logoutUri: '/', scopes: 'openid email profile' },
    });
  });

  it('signs in by the code flow with PKCE and comes back to the view it left, the token in sessionStorage only', async () => {
    const { page, context, urls } = await tab();
    await page.goto(`${url}/#/overview?period=7d&tz=UTC`);
    await page.click('[data-signin=cognito]');
    await page.waitForSelector('body[data-overview=complete]', { timeout: VIEW_BOUND_MS });
    expect(await page.textContent('[data-metric=events] .value')).toBe(String(seeded));
    expect(await page.textContent('[data-tenant]')).toBe(TENANT);
    // The code and state are gone from the address bar; the view and its filters are back.
    expect(page.url()).toBe(`${url}/#/overview?period=7d&tz=UTC`);
    const authorize = new URL(urls.find((seen) => seen.startsWith(`${hostedUi.origin}/oauth2/authorize`)) ?? '');
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: `${url}/callback`, code_challenge_method: 'S256', scope: 'openid email profile' });
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    const token = (await storedToken(page)) ?? '';
    expect(JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))).toMatchObject({ token_use: 'id', aud: CLIENT_ID, 'custom:tenant_id': TENANT });
    expect(urls.filter((seen) => seen.includes(token.slice(-24)))).toEqual([]);
    // The verifier and state are spent with the answer they were for.
    expect(await page.evaluate("sessionStorage.getItem('event-tracker.signin')")).toBeNull();
    await context.close();
  });

  it('refuses an answer whose state this tab did not send, in words, and never exchanges its code', async () => {
    const { page, context } = await tab();
    await page.goto(`${url}/#/explorer?period=7d&category=checkout`);
    const exchanges = hostedUi.calls.filter((call) => call === 'token').length;
    hostedUi.forgeNextState('state-of-another-sign-in');
    await page.click('[data-signin=cognito]');
    await expect.poll(() => page.textContent('[data-signin-reason]'), { timeout: VIEW_BOUND_MS }).toContain('its state differs');
    expect(hostedUi.calls.filter((call) => call === 'token').length).toBe(exchanges);
    expect(await storedToken(page)).toBeNull();
    expect(page.url()).toBe(`${url}/#/explorer?period=7d&category=checkout`);
    expect(await page.isVisible('[data-signin=cognito]')).toBe(true);
    await context.close();
  });

  it('returns to sign-in when the token has expired and signs back in to the same filtered view', async () => {
    const expired = await new SignJWT({ 'custom:tenant_id': TENANT, 'cognito:groups': ['events:read'], token_use: 'id' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('cognito-user-1')
      .setIssuer(hostedUi.origin)
      .setAudience(CLIENT_ID)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(TEST_SECRET));
    const { page, context } = await tab();
    await page.goto(`${url}/`);
    await page.evaluate(`sessionStorage.setItem('event-tracker.token', ${JSON.stringify(expired)})`);
    await page.goto(`${url}/#/explorer?period=7d&category=checkout`);
    await expect.poll(() => page.textContent('[data-signin-reason]'), { timeout: VIEW_BOUND_MS }).toContain('Sign in again');
    await page.click('[data-signin=cognito]');
    await page.waitForSelector('body[data-explorer=complete]', { timeout: VIEW_BOUND_MS });
    expect(page.url()).toBe(`${url}/#/explorer?period=7d&category=checkout`);
    expect(await page.inputValue('input[name=category]')).toBe('checkout');
    await context.close();
  });

  it('signs out at the hosted UI too, and lands on sign-in with nothing kept', async () => {
    const { page, context } = await tab();
    await page.goto(`${url}/#/overview?period=24h`);
    await page.click('[data-signin=cognito]');
    await page.waitForSelector('body[data-overview=complete]', { timeout: VIEW_BOUND_MS });
    await page.click('text=Sign out');
    await page.waitForSelector('[data-signin=cognito]', { timeout: VIEW_BOUND_MS });
    expect(hostedUi.calls.at(-1)).toBe('logout');
    expect(page.url()).toBe(`${url}/`);
    expect(await storedToken(page)).toBeNull();
    await context.close();
  });
});
