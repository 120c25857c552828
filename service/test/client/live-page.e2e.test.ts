// The live page in real Chromium against a real service and Redis: updates appear as they
// are published; three failed stream attempts show the polling banner while polling keeps
// the page current; the banner goes when the stream is back; a reload resumes without
// losing an event. Stream outages are made with Playwright routing, so the REST endpoints
// the page polls keep working, as in a real outage of the stream path alone.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { Page, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium, type TestBrowser } from '#test-support/browser';
import {
  eventually,
  publish,
  startInstance,
  testConfig,
  testStream,
  token,
  type TestInstance,
} from '#test-support/instance';

export const SCREENSHOT_DIR = join(import.meta.dirname, '../../../.cache/screenshots');

// Short delays so a test sees several retries and polls in a few seconds.
const FAST = 'retryBaseMs=200&retryMaxMs=800&pollIntervalMs=300';
const STREAM = '**/api/realtime/stream**';

let browser: TestBrowser;
let instance: TestInstance;
/** Every socket the server accepted and still has open (streams are detached from its HTTP bookkeeping). */
const accepted = new Set<Socket>();
let producer: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  producer = await token('producer');
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
});
beforeEach(async () => {
  // SSE_RETRY_MS is the hint a `shutdown` event carries.
  instance = await startInstance(testConfig(testStream(), { AUTH_DEV_TOKENS: 'true', SSE_RETRY_MS: '300' }));
  instance.app.server.on('connection', (socket: Socket) => {
    accepted.add(socket);
    socket.once('close', () => accepted.delete(socket));
  });
  pageErrors.length = 0;
});
/** Pages first: an instance closes only once its streams are gone. */
async function closePages(): Promise<void> {
  for (const page of browser.context.pages()) await page.close();
}

afterEach(async () => {
  await closePages();
  await instance.close();
  expect(pageErrors).toEqual([]);
});

async function send(method: string, path: string, body?: unknown): Promise<{ eventId: string }> {
  const response = await fetch(`${instance.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${producer}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.status, `${method} ${path}`).toBeLessThan(300);
  return (await response.json()) as { eventId: string };
}

async function openPage(): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`${instance.url}/?${FAST}`);
  await page.locator('#connection[data-mode="live"]').waitFor();
  return page;
}

const scoreOf = (page: Page, matchId: string) => page.locator(`tr[data-match-id="${matchId}"] td.score`);
// The ids in the page's event log, newest first, read in one step inside the page.
type PageDocument = { querySelectorAll(selector: string): Iterable<{ getAttribute(name: string): string | null }> };
const eventIds = (page: Page) =>
  page.evaluate(() =>
    [...(globalThis as unknown as { document: PageDocument }).document.querySelectorAll('#events li')].map((item) =>
      item.getAttribute('data-event-id'),
    ),
  );

/** Answers every new stream request with 503 while `down` is true; counts the attempts. */
async function controlStream(page: Page): Promise<{ down: boolean; attempts: number }> {
  const outage = { down: false, attempts: 0 };
  await page.route(STREAM, async (route: Route) => {
    if (!outage.down) return route.continue();
    outage.attempts += 1;
    return route.fulfill({
      status: 503,
      contentType: 'application/json',
      body: '{"error":"Service Unavailable","message":"stream outage (test)"}',
    });
  });
  return outage;
}

/** Starts an outage: new stream requests fail and the open stream's connection is cut. */
/** A network cut: every connection the server holds, the stream's included, drops at once. */
function cutStream(outage: { down: boolean }): void {
  outage.down = true;
  for (const socket of accepted) socket.destroy();
}

describe('the live page', () => {
  it('lists the matches and shows a published update as it arrives, with the connection state', async () => {
    await send('POST', '/api/matches', { id: 'falcons-owls', title: 'Falcons vs Owls', status: 'live' });
    const page = await openPage();
    await expect.poll(() => scoreOf(page, 'falcons-owls').textContent()).toBe('0 – 0');
    await expect.poll(() => page.locator('#connection').textContent()).toBe('Live');
    expect(await page.locator('#banner').isHidden()).toBe(true);

    const { eventId } = await send('PATCH', '/api/matches/falcons-owls', { score: { home: 2, away: 1 } });
    await expect.poll(() => scoreOf(page, 'falcons-owls').textContent()).toBe('2 – 1');
    await expect.poll(() => eventIds(page)).toContain(eventId);

    // A match created after the page loaded arrives by the stream alone.
    await send('POST', '/api/matches', { id: 'herons-larks', title: 'Herons vs Larks' });
    await expect
      .poll(() => page.locator('tr[data-match-id="herons-larks"] td').first().textContent())
      .toBe('Herons vs Larks');
    await expect.poll(() => page.locator('#identity').textContent()).toContain('live-page (admin)');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'live-page.png') });
  });

  it('after three failed stream attempts shows the polling banner, and polling keeps the page current', async () => {
    await send('POST', '/api/matches', { id: 'kites-rooks', title: 'Kites vs Rooks', status: 'live' });
    const page = await browser.context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const outage = await controlStream(page);
    await page.goto(`${instance.url}/?${FAST}`);
    await page.locator('#connection[data-mode="live"]').waitFor();

    cutStream(outage);
    await page.locator('#banner').waitFor({ state: 'visible' });
    expect(await page.locator('#banner strong').textContent()).toBe('Live updates paused: polling');
    // The cut connection was the first failure; two refused attempts made three.
    expect(outage.attempts).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#connection').getAttribute('data-mode')).toBe('polling');

    const { eventId } = await send('PATCH', '/api/matches/kites-rooks', {
      score: { home: 0, away: 3 },
      status: 'finished',
    });
    await expect.poll(() => scoreOf(page, 'kites-rooks').textContent()).toBe('0 – 3');
    // It came by polling: the stream never delivered that event.
    expect(await eventIds(page)).not.toContain(eventId);
    // The stream keeps being retried in the background while the page polls.
    const attemptsWhenPolling = outage.attempts;
    await eventually(() => outage.attempts >= attemptsWhenPolling + 2, 'more background stream attempts');
    expect(await page.locator('#banner').isVisible()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'live-page-polling.png') });
  });

  it('removes the banner when the stream is back, and resumes with the events missed meanwhile', async () => {
    await send('POST', '/api/matches', { id: 'swifts-terns', title: 'Swifts vs Terns', status: 'live' });
    const page = await browser.context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const outage = await controlStream(page);
    await page.goto(`${instance.url}/?${FAST}`);
    await page.locator('#connection[data-mode="live"]').waitFor();
    const before = await send('PATCH', '/api/matches/swifts-terns', { score: { home: 1, away: 0 } });
    await expect.poll(() => eventIds(page)).toContain(before.eventId);

    cutStream(outage);
    await page.locator('#banner').waitFor({ state: 'visible' });
    const missed = await send('PATCH', '/api/matches/swifts-terns', { score: { home: 1, away: 1 } });
    await expect.poll(() => scoreOf(page, 'swifts-terns').textContent()).toBe('1 – 1');

    outage.down = false;
    await page.locator('#banner').waitFor({ state: 'hidden' });
    expect(await page.locator('#connection').textContent()).toBe('Live');
    // The reconnect resumed from the last id: the event polled over is now in the log, once.
    await expect.poll(async () => (await eventIds(page)).filter((id) => id === missed.eventId).length).toBe(1);
    expect((await eventIds(page)).filter((id) => id === before.eventId)).toHaveLength(1);

    const after = await send('PATCH', '/api/matches/swifts-terns', { score: { home: 2, away: 1 } });
    await expect.poll(() => scoreOf(page, 'swifts-terns').textContent()).toBe('2 – 1');
    await expect.poll(() => eventIds(page)).toContain(after.eventId);
  });

  it('on shutdown reconnects after the hint and resumes from the last id, without the banner', async () => {
    await send('POST', '/api/matches', { id: 'wrens-jays', title: 'Wrens vs Jays', status: 'live' });
    const page = await browser.context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const streamUrls: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/realtime/stream')) streamUrls.push(request.url());
    });
    await page.goto(`${instance.url}/?${FAST}`);
    await page.locator('#connection[data-mode="live"]').waitFor();
    const seen = await send('PATCH', '/api/matches/wrens-jays', { score: { home: 1, away: 0 } });
    await expect.poll(() => eventIds(page)).toContain(seen.eventId);

    // The instance announces shutdown to every client and closes their streams.
    await instance.app.realtime.fanout.drain(0);
    await eventually(() => streamUrls.length >= 2, 'the page to reconnect after the hint');
    expect(new URL(streamUrls[1] ?? '').searchParams.get('lastEventId')).toBe(seen.eventId);
    await page.locator('#connection[data-mode="live"]').waitFor();
    const after = await send('PATCH', '/api/matches/wrens-jays', { score: { home: 1, away: 1 } });
    await expect.poll(() => eventIds(page)).toContain(after.eventId);
    expect(await eventIds(page)).toEqual([after.eventId, seen.eventId]);
    // Not one failure counted: shutdown is an announced reconnect, not an error.
    const failures = await page.evaluate(
      () =>
        (
          globalThis as unknown as { traybLive: { client: { status(): { counts: { failures: number } } } } }
        ).traybLive.client.status().counts.failures,
    );
    expect(failures).toBe(0);
    expect(await page.locator('#banner').isHidden()).toBe(true);
  });

  it('resumes after a reload from the last event id, without losing or repeating an event', async () => {
    await send('POST', '/api/matches', { id: 'gulls-crows', title: 'Gulls vs Crows', status: 'live' });
    const page = await openPage();
    const seen = await send('PATCH', '/api/matches/gulls-crows', { score: { home: 1, away: 0 } });
    await expect.poll(() => eventIds(page)).toContain(seen.eventId);
    expect(await page.evaluate(() => sessionStorage.getItem('trayb-realtime:lastEventId'))).toBe(seen.eventId);

    // Hold the reloaded page's stream request until an event was published while it was away.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held: string[] = [];
    await page.route(STREAM, async (route) => {
      held.push(route.request().url());
      await released;
      await route.continue();
    });
    await page.reload({ waitUntil: 'domcontentloaded' });
    await eventually(() => held.length > 0, 'the reloaded page to request the stream');
    await expect.poll(() => scoreOf(page, 'gulls-crows').textContent()).toBe('1 – 0');
    expect(new URL(held[0] ?? '').searchParams.get('lastEventId')).toBe(seen.eventId);

    // Published through the producer route: no match state changes, only the stream has it.
    const response = await publish(instance.url, producer, {
      matchId: 'gulls-crows',
      action: 'match:updated',
      data: { score: { home: 1, away: 1 } },
    });
    const { id: whileAway } = (await response.json()) as { id: string };
    release();

    await page.locator('#connection[data-mode="live"]').waitFor();
    await expect.poll(() => eventIds(page)).toContain(whileAway);
    await expect.poll(() => scoreOf(page, 'gulls-crows').textContent()).toBe('1 – 1');
    // The event seen before the reload is not delivered again.
    expect(await eventIds(page)).toEqual([whileAway]);
  });
});

describe('the live page without development tokens (production)', () => {
  it('takes a token from the URL fragment, keeps it for reloads and removes it from the address bar', async () => {
    const production = await startInstance(testConfig(testStream()));
    try {
      const viewer = await token('user', ['m-7'], { sub: 'viewer-7' });
      await fetch(`${production.url}/api/matches`, {
        method: 'POST',
        headers: { authorization: `Bearer ${producer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'm-7', title: 'Room seven' }),
      });
      const page = await browser.context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${production.url}/?${FAST}#access_token=${viewer}`);
      await page.locator('#connection[data-mode="live"]').waitFor();
      expect(new URL(page.url()).hash).toBe('');
      await expect.poll(() => page.locator('#identity').textContent()).toContain('viewer-7 (user)');
      await expect.poll(() => scoreOf(page, 'm-7').textContent()).toBe('0 – 0');
      await page.reload();
      await page.locator('#connection[data-mode="live"]').waitFor();
      await expect.poll(() => page.locator('#identity').textContent()).toContain('viewer-7 (user)');
    } finally {
      await closePages();
      await production.close();
    }
  });

  it('takes a renewed token posted by the app that frames it, from its own origin only, and streams on with it', async () => {
    const production = await startInstance(testConfig(testStream()));
    try {
      const first = await token('admin', [], { sub: 'short-lived', expiresIn: '4s' });
      const renewed = await token('admin', [], { sub: 'renewed-admin' });
      const intruder = await token('admin', [], { sub: 'intruder' });
      const app = await browser.context.newPage();
      app.on('pageerror', (error) => pageErrors.push(error.message));
      // The app's shell on the service's host frames the live page with the first token.
      const liveUrl = `${production.url}/?${FAST}#access_token=${first}`;
      await app.route(`${production.url}/app-shell`, (route) =>
        route.fulfill({
          status: 200,
          contentType: 'text/html',
          body: `<!doctype html><iframe src="${liveUrl}"></iframe>`,
        }),
      );
      await app.goto(`${production.url}/app-shell`);
      const live = app.frames().find((frame) => frame !== app.mainFrame());
      if (live === undefined) throw new Error('the live page was not framed');
      await live.locator('#connection[data-mode="live"]').waitFor();
      await expect.poll(() => live.locator('#identity').textContent()).toContain('short-lived');

      type Win = {
        postMessage(message: unknown, origin: string): void;
        dispatchEvent(event: unknown): void;
        frames: Win[];
      };
      await app.evaluate((renewal) => {
        const shell = globalThis as unknown as Win;
        shell.frames[0]?.postMessage({ type: 'trayb-realtime:access-token', token: renewal }, '*');
      }, renewed);
      // A message from any other origin is ignored.
      await live.evaluate((forged) => {
        const page = globalThis as unknown as Win & { MessageEvent: new (type: string, init: unknown) => unknown };
        const message = { type: 'trayb-realtime:access-token', token: forged };
        page.dispatchEvent(new page.MessageEvent('message', { data: message, origin: 'http://elsewhere.test' }));
      }, intruder);

      // The first token expires: the service ends the stream, the page reconnects with the renewal.
      await expect.poll(() => live.locator('#identity').textContent(), { timeout: 20_000 }).toContain('renewed-admin');
      await live.locator('#connection[data-mode="live"]').waitFor();
      const { eventId } = (await (
        await fetch(`${production.url}/api/matches`, {
          method: 'POST',
          headers: { authorization: `Bearer ${producer}`, 'content-type': 'application/json' },
          body: JSON.stringify({ id: 'm-renew', title: 'Renewed' }),
        })
      ).json()) as { eventId: string };
      await expect
        .poll(
          () =>
            live.evaluate(() =>
              [...(globalThis as unknown as { document: PageDocument }).document.querySelectorAll('#events li')].map(
                (item) => item.getAttribute('data-event-id'),
              ),
            ),
          { timeout: 10_000 },
        )
        .toContain(eventId);
    } finally {
      await closePages();
      await production.close();
    }
  });

  it('without a fragment relies on the access_token cookie of the embedding app', async () => {
    const production = await startInstance(testConfig(testStream()));
    try {
      // Cookies ignore ports: cleared below so the other tests see none.
      const viewer = await token('admin', [], { sub: 'cookie-admin' });
      await browser.context.addCookies([
        { name: 'access_token', value: viewer, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Strict' },
      ]);
      const page = await browser.context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${production.url}/?${FAST}`);
      await page.locator('#connection[data-mode="live"]').waitFor();
      await expect
        .poll(() => page.locator('#identity').textContent())
        .toContain('cookie-admin (admin) with a session cookie');
    } finally {
      await closePages();
      await browser.context.clearCookies();
      await production.close();
    }
  });
});
