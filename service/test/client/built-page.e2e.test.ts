// The container image runs `node dist/main.js` from `npm run build`. tsc emits only the
// compiled TypeScript, so this proves the build also ships the page's files and that the
// built production entry serves a page that goes live in Chromium.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startServiceProcess } from '#test-support/entry-processes';
import { launchChromium } from '#test-support/browser';
import { TEST_SECRET, testStream, token } from '#test-support/instance';

const root = join(import.meta.dirname, '../../..');
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('the built service', () => {
  it('serves the live page from dist/ and the page goes live', async () => {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe' });
    for (const file of ['index.html', 'page.js', 'live-client.js', 'page.css'])
      expect(existsSync(join(root, 'dist/client/public', file)), file).toBe(true);

    const service = await startServiceProcess(
      { REDIS_URL: inject('redisUrl'), AUTH_JWT_SECRET: TEST_SECRET, REALTIME_STREAM_KEY: testStream().key },
      join(root, 'dist/main.js'),
    );
    cleanups.push(() => service.crash());
    const { url } = service;
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toMatch(/<meta name="trayb-dev-tokens" content="off"/);

    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    const tab = await browser.context.newPage();
    await tab.goto(`${url}/#access_token=${await token('admin', [], { sub: 'image-check' })}`);
    await tab.locator('#connection[data-mode="live"]').waitFor();
    await expect.poll(() => tab.locator('#identity').textContent()).toContain('image-check (admin)');
  });
});
