// rediss:// against a real redis-server serving TLS only, with certificates made here by
// openssl: a CA, a server certificate for 127.0.0.1 (IP SAN), one from another CA and one for
// another name. The service connects, fans out and resumes through REDIS_TLS_CA_FILE; the
// client refuses a server whose certificate does not chain to that CA or names someone else.
// Through a Sentinel serving TLS too, the service finds the TLS master and works the same.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThrowawayRedis, type ThrowawayRedis } from '#test-support/throwaway-redis';
import { freePort } from '#test-support/free-port';
import { perTest } from '#test-support/per-test';
import { eventually, publish, testStream, token } from '#test-support/instance';
import { loadServiceConfig } from '../../src/config/index.ts';
import { createRedis } from '../../src/redis/index.ts';

let dir: string;
const servers: ThrowawayRedis[] = [];
let sentinel: ChildProcess | undefined;
let trusted: ThrowawayRedis;
let wrongName: ThrowawayRedis;
let otherCa: ThrowawayRedis;

const path = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

function makeCa(name: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    path(`${name}.key`),
    '-out',
    path(`${name}.pem`),
  );
}

/** A server key and certificate for `subjectAltName`, signed by the CA `ca`. */
async function makeServerCert(name: string, ca: string, subjectAltName: string): Promise<void> {
  await writeFile(path(`${name}.ext`), `subjectAltName=${subjectAltName}\n`);
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    path(`${name}.key`),
    '-out',
    path(`${name}.csr`),
  );
  openssl(
    'x509',
    '-req',
    '-in',
    path(`${name}.csr`),
    '-CA',
    path(`${ca}.pem`),
    '-CAkey',
    path(`${ca}.key`),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    path(`${name}.ext`),
    '-out',
    path(`${name}.pem`),
  );
}

async function tlsServer(cert: string, ca: string): Promise<ThrowawayRedis> {
  const server = await startThrowawayRedis({
    tls: { certFile: path(`${cert}.pem`), keyFile: path(`${cert}.key`), caFile: path(`${ca}.pem`) },
  });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'redis-tls-'));
  makeCa('test-ca');
  makeCa('other-ca');
  await makeServerCert('loopback', 'test-ca', 'IP:127.0.0.1');
  await makeServerCert('elsewhere', 'test-ca', 'DNS:elsewhere.example');
  await makeServerCert('foreign', 'other-ca', 'IP:127.0.0.1');
  trusted = await tlsServer('loopback', 'test-ca');
  wrongName = await tlsServer('elsewhere', 'test-ca');
  otherCa = await tlsServer('foreign', 'other-ca');
});

afterAll(async () => {
  if (sentinel !== undefined && sentinel.exitCode === null) {
    const exited = once(sentinel, 'exit');
    sentinel.kill('SIGTERM');
    await exited;
  }
  await Promise.all(servers.map((server) => server.stop()));
  await rm(dir, { recursive: true, force: true });
});

const { instance, open } = perTest();

/** Connects as the service would with this environment; resolves with the failure, if any. */
async function connectFails(env: Record<string, string>): Promise<Error | undefined> {
  const { redis: config } = loadServiceConfig(env);
  const redis = createRedis(config, { name: 'tls-test', offlineQueue: false });
  const failed = new Promise<Error>((resolve) => redis.once('error', resolve));
  try {
    return await Promise.race([redis.connect().then(() => redis.ping().then(() => undefined)), failed]);
  } catch (error) {
    return error as Error;
  } finally {
    redis.disconnect();
  }
}

describe('Redis over TLS (rediss://)', () => {
  it('the service connects with REDIS_TLS_CA_FILE, fans out and resumes', async () => {
    expect(trusted.url).toMatch(/^rediss:\/\/127\.0\.0\.1:/);
    const service = await instance(testStream(), { REDIS_URL: trusted.url, REDIS_TLS_CA_FILE: path('test-ca.pem') });
    const [reader, producer] = [await token('admin'), await token('producer')];
    const client = await open(service.url, { token: reader });
    for (const n of [1, 2, 3])
      expect(
        (await publish(service.url, producer, { matchId: 'm-1', action: 'match:updated', data: { n } })).status,
      ).toBe(202);
    await client.waitForEvents(3);
    const resumed = await open(service.url, { token: reader, lastEventId: client.streamEvents[0]?.id as string });
    await resumed.waitForEvents(2);
    expect(resumed.streamEvents.map((event) => event.id)).toEqual(
      client.streamEvents.slice(1).map((event) => event.id),
    );
  });

  it('through a Sentinel serving TLS, finds the TLS master, fans out and resumes', async () => {
    const port = await freePort();
    const conf = path('sentinel.conf');
    await writeFile(
      conf,
      [
        'port 0',
        `tls-port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `tls-cert-file ${path('loopback.pem')}`,
        `tls-key-file ${path('loopback.key')}`,
        `tls-ca-cert-file ${path('test-ca.pem')}`,
        'tls-auth-clients no',
        // The Sentinel reaches the master over TLS too.
        'tls-replication yes',
        `sentinel monitor realtime 127.0.0.1 ${trusted.port} 1`,
        '',
      ].join('\n'),
    );
    sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    const env = {
      REDIS_SENTINELS: `127.0.0.1:${port}`,
      REDIS_SENTINEL_NAME: 'realtime',
      REDIS_TLS_CA_FILE: path('test-ca.pem'),
    };
    await eventually(
      async () => (await connectFails(env)) === undefined,
      'the Sentinel to name the TLS master',
      15_000,
    );

    const service = await instance(testStream(), env);
    const [reader, producer] = [await token('admin'), await token('producer')];
    const client = await open(service.url, { token: reader });
    for (const n of [1, 2])
      expect(
        (await publish(service.url, producer, { matchId: 'm-1', action: 'match:updated', data: { n } })).status,
      ).toBe(202);
    await client.waitForEvents(2);
    const resumed = await open(service.url, { token: reader, lastEventId: client.streamEvents[0]?.id as string });
    await resumed.waitForEvents(1);
    expect(resumed.streamEvents[0]?.id).toBe(client.streamEvents[1]?.id);
  });

  it('refuses a server certificate from another CA, and the system CAs do not trust the test CA', async () => {
    const foreign = await connectFails({ REDIS_URL: otherCa.url, REDIS_TLS_CA_FILE: path('test-ca.pem') });
    expect(foreign?.message).toMatch(/self[- ]signed|unable to (verify|get local issuer)/i);
    const withoutCa = await connectFails({ REDIS_URL: trusted.url });
    expect(withoutCa?.message).toMatch(/self[- ]signed|unable to (verify|get local issuer)/i);
  });

  it('refuses a certificate of the right CA issued for another name', async () => {
    const failure = await connectFails({ REDIS_URL: wrongName.url, REDIS_TLS_CA_FILE: path('test-ca.pem') });
    expect(failure?.message).toMatch(
      /does not match certificate's altnames|IP: 127\.0\.0\.1 is not in the cert's list/i,
    );
  });

  it('a CA file that cannot be read is a configuration error at start', () => {
    expect(() => loadServiceConfig({ REDIS_URL: trusted.url, REDIS_TLS_CA_FILE: path('missing.pem') })).toThrow(
      /REDIS_TLS_CA_FILE: cannot read/,
    );
  });
});
