// The throwaway credentials one test kube-apiserver needs: a CA, a serving certificate for
// 127.0.0.1, an admin client certificate in system:masters, a static admin token and the
// service-account signing key pair. All live in the run's temporary folder and die with it.
// Certificates come from the openssl CLI (node:crypto can make keys but not sign X.509).
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ApiserverPki {
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  /** --token-auth-file: one line, the admin token in system:masters. */
  readonly tokenFile: string;
  readonly adminToken: string;
  readonly serviceAccountPublicKey: string;
  readonly serviceAccountPrivateKey: string;
}

/** The admin identity the harness authenticates as; system:masters bypasses RBAC. */
export const ADMIN_USER = 'harness-admin';
export const ADMIN_GROUP = 'system:masters';

const DAYS = '2'; // a test run is minutes long; short validity limits a leaked file's use

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('openssl was not found on PATH (Debian: apt-get install openssl)', { cause: error });
    }
    throw error;
  }
}

async function signedBy(
  dir: string,
  name: string,
  subject: string,
  extensions: readonly string[],
  ca: { cert: string; key: string },
): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    DAYS,
    '-subj',
    subject,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    // openssl's default x509 section would mark the leaf as a CA too
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    ...extensions.flatMap((extension) => ['-addext', extension]),
  ]);
  return { cert, key };
}

export async function createApiserverPki(dir: string): Promise<ApiserverPki> {
  const caCert = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    caKey,
    '-out',
    caCert,
    '-days',
    DAYS,
    '-subj',
    '/CN=trayb-test-kube-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const ca = { cert: caCert, key: caKey };
  const serving = await signedBy(
    dir,
    'apiserver',
    '/CN=kube-apiserver',
    ['subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc', 'extendedKeyUsage=serverAuth'],
    ca,
  );
  // The client CA maps CN to the user name and O to groups.
  const admin = await signedBy(dir, 'admin', `/O=${ADMIN_GROUP}/CN=${ADMIN_USER}`, ['extendedKeyUsage=clientAuth'], ca);

  const adminToken = randomBytes(24).toString('base64url');
  const tokenFile = join(dir, 'tokens.csv');
  // token,user,uid,"group1,group2"
  await writeFile(tokenFile, `${adminToken},${ADMIN_USER},${ADMIN_USER},"${ADMIN_GROUP}"\n`, { mode: 0o600 });

  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serviceAccountPublicKey = join(dir, 'sa.pub');
  const serviceAccountPrivateKey = join(dir, 'sa.key');
  await writeFile(serviceAccountPublicKey, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(serviceAccountPrivateKey, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });

  return {
    caCert,
    caKey,
    servingCert: serving.cert,
    servingKey: serving.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    tokenFile,
    adminToken,
    serviceAccountPublicKey,
    serviceAccountPrivateKey,
  };
}
