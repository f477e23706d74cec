import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { segmentUserUuid } from '../../../lambdas/shared/domain/segment-messages.js';
import { TENANT_A } from '../../support/factories.js';
import { callApi } from '../../support/api-client.js';
import { startTestRuntime, type RunningRuntime } from '../../support/local-runtime.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`Skipping the analytics-next browser test: no Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium).`);

const BUNDLES = join(dirname(createRequire(import.meta.url).resolve('@segment/analytics-next/package.json')), 'dist', 'umd');

let app: RunningRuntime;
let browser: Browser;
let site: Server;
/** The page's origin: localhost where the API is 127.0.0.1, so every call is a CORS request as on a real site. */
let shop: string;
let writeKey: string;
let reader: string;

async function stored(action: string) {
  for (let attempt = 0; attempt < 400; attempt++) {
    const answer = await callApi(app.runtime.url, 'POST', '/v1/events/query', {
      token: reader,
      body: { actions: [action], startTime: new Date(Date.now() - 3600_000).toISOString(), endTime: new Date(Date.now() + 60_000).toISOString() },
    });
    if (answer.body.events.length > 0) return answer.body.events as Array<Record<string, any>>;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return [];
}

describe.skipIf(!hasChromium)('@segment/analytics-next, unmodified, in headless Chromium', () => {
  beforeAll(async () => {
    app = await startTestRuntime();
    const admin = await app.token(TENANT_A, ['admin']);
    reader = await app.token(TENANT_A, ['events:read']);
    writeKey = (await callApi(app.runtime.url, 'POST', '/v1/keys', { token: admin, body: { name: 'browser' } })).body.key;
    site = createServer((request, response) => {
      if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Shop</title><script src="/analytics-next.js"></script>');
      else void readFile(join(BUNDLES, 'index.js')).then((script) => response.writeHead(200, { 'content-type': 'application/javascript' }).end(script));
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    shop = `http://localhost:${(site.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.close(resolve));
    await app?.stop();
  });

  it('loads its settings from cdnURL and sends track, page and identify that are stored and queryable', async () => {
    const page = await browser.newPage();
    // The library's lazy chunks, which it asks of the cdnURL as of Segment's CDN.
    await page.route(`${app.runtime.url}/analytics-next/bundles/*`, async (route) =>
      route.fulfill({ contentType: 'application/javascript', body: await readFile(join(BUNDLES, new URL(route.request().url()).pathname.split('/').pop() ?? '')) }),
    );
    await page.goto(shop);

    const delivered = await page.evaluate(
      async ({ key, cdnURL }) => {
        const { AnalyticsBrowser } = (globalThis as unknown as { AnalyticsNext: typeof import('@segment/analytics-next') }).AnalyticsNext;
        const [analytics] = await AnalyticsBrowser.load({ writeKey: key, cdnURL });
        const contexts = [
          await analytics.identify('browser-user-7', { plan: 'team' }),
          await analytics.track('Signed Up', { category: 'Onboarding', label: 'hero button' }),
          await analytics.page('Landing', 'Home'),
        ];
        return contexts.map((ctx) => ctx.failedDelivery()?.reason ?? 'delivered');
      },
      { key: writeKey, cdnURL: app.runtime.url },
    );

    expect(delivered).toEqual(['delivered', 'delivered', 'delivered']);
    const [track] = await stored('Signed Up');
    expect(track).toMatchObject({
      type: 'USER_ACTION',
      category: 'Onboarding',
      label: 'hero button',
      userId: segmentUserUuid(TENANT_A, 'browser-user-7'),
      sessionId: expect.any(String),
      context: { page: `${shop}/`, userAgent: expect.stringContaining('Chrome'), segment: { library: { name: 'analytics.js' } } },
      metadata: { source: 'segment', segment: { type: 'track', userId: 'browser-user-7' } },
    });
    expect((await stored('Home'))[0]).toMatchObject({ category: 'Landing', metadata: { segment: { type: 'page' } } });
    expect((await stored('identify')).find((event) => event.metadata.segment.userId === 'browser-user-7')).toMatchObject({ properties: { plan: 'team' } });
    await page.close();
  });
});
