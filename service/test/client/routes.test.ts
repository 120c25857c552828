// The service serves the live page and its modules: right content types, the page marked
// for development tokens only when GET /api/dev/token exists, no inline script (the CSP
// allows only same-origin script files), and nothing outside the fixed set of files.
import { afterEach, describe, expect, it } from 'vitest';
import { startInstance, testConfig, testStream, type TestInstance } from '#test-support/instance';

const instances: TestInstance[] = [];
afterEach(async () => {
  for (const instance of instances.splice(0)) await instance.close();
});

async function start(env: Record<string, string> = {}): Promise<TestInstance> {
  const instance = await startInstance(testConfig(testStream(), env));
  instances.push(instance);
  return instance;
}

describe('the live page routes', () => {
  it('serves the page with a CSP that only allows same-origin script files, and the page has no inline script', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    // Served over plain HTTP to another host, an upgrade would send the scripts' requests to https.
    expect(response.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/client/page.js"></script>');
    expect(html.match(/<script\b[^>]*>[^<]+<\/script>/)).toBeNull();
    expect(html).toContain('Live updates paused: polling');
  });

  it('marks the page for development tokens only when the service mints them', async () => {
    const production = await start();
    expect(await (await fetch(`${production.url}/`)).text()).toMatch(/<meta name="trayb-dev-tokens" content="off"/);
    expect((await fetch(`${production.url}/api/dev/token`)).status).toBe(404);
    const development = await start({ AUTH_DEV_TOKENS: 'true' });
    expect(await (await fetch(`${development.url}/`)).text()).toMatch(/<meta name="trayb-dev-tokens" content="on"/);
  });

  it('serves every module the page imports as JavaScript, and the stylesheet as CSS', async () => {
    const { url } = await start();
    for (const file of ['page.js', 'live-client.js', 'stream-state.js', 'match-board.js', 'rest-state.js']) {
      const response = await fetch(`${url}/client/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type'), file).toBe('text/javascript; charset=utf-8');
      const imports = [...(await response.text()).matchAll(/from '\.\/([a-z-]+\.js)'/g)].map((match) => match[1]);
      for (const imported of imports)
        expect((await fetch(`${url}/client/${imported}`)).status, `${file} imports ${imported}`).toBe(200);
    }
    expect((await fetch(`${url}/client/page.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers 404 for unknown files and 400 for names outside the file pattern, never reading the file system', async () => {
    const { url } = await start();
    expect((await fetch(`${url}/client/nope.js`)).status).toBe(404);
    for (const name of ['..%2Froutes.ts', 'stream-state.d.ts', 'index.html', '%2Fetc%2Fpasswd']) {
      const response = await fetch(`${url}/client/${name}`);
      expect(response.status, name).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'Bad Request' });
    }
  });
});
