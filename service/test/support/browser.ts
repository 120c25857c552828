// Real Chromium for the browser tests: Debian's `chromium` package (apt-get install chromium)
// driven by playwright-core, never a downloaded browser. Each launch gets a fresh profile
// directory, removed on close. CHROMIUM_PATH overrides the binary.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Quiet, deterministic, offline-friendly: nothing but the page under test talks to the network.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<TestBrowser> {
  // Playwright owns --user-data-dir: a persistent context on a fresh directory is exactly that flag.
  const userDataDir = await mkdtemp(join(tmpdir(), 'trayb-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: FLAGS,
    viewport: { width: 1000, height: 640 },
    timeout: 60_000,
  });
  // Fail a step with Playwright's message well before the test timeout.
  context.setDefaultTimeout(20_000);
  return {
    context,
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
