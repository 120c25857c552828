// The default stack's Redis has no fixed password: the first controller to start creates the
// Secret with a random password per ACL user (redis/acl.ts) when it is missing, so one
// `kubectl apply -k k8s` gives a Redis that refuses clients without credentials. The Redis
// and service pods mount the Secret and wait for it; the controller itself reads its password
// through the API, so it does not wait on what it creates. An existing Secret is never
// changed: rotating a password is an operator's edit followed by a restart of the three.
import { randomBytes } from 'node:crypto';
import { CONTROLLER_ACL_USER, SERVICE_ACL_USER } from '../redis/acl.ts';
import type { KubeCluster } from './kube.ts';

/** The Secret's keys: one password per ACL user. */
export const REDIS_USER_PASSWORD_KEYS = {
  [SERVICE_ACL_USER]: 'service-password',
  [CONTROLLER_ACL_USER]: 'controller-password',
} as const;

export const REDIS_USERS_SECRET_LABELS = {
  'app.kubernetes.io/name': 'trayb-realtime',
  'app.kubernetes.io/component': 'redis',
  'app.kubernetes.io/managed-by': 'trayb-realtime-controller',
};

/** 256 random bits per user, hex so it needs no quoting in a URL, an ACL file or a shell. */
export function newRedisUserPasswords(): Record<string, string> {
  return Object.fromEntries(
    Object.values(REDIS_USER_PASSWORD_KEYS).map((key) => [key, randomBytes(32).toString('hex')]),
  );
}

/**
 * Creates the Secret when missing (two controllers racing: one creates, the other finds it)
 * and returns the controller user's password from whatever Secret is there.
 */
export async function ensureRedisUsers(
  cluster: Pick<KubeCluster, 'createSecretIfMissing' | 'readSecretValue'>,
  secretName: string,
): Promise<{ created: boolean; controllerPassword: string }> {
  const created = await cluster.createSecretIfMissing(secretName, newRedisUserPasswords(), REDIS_USERS_SECRET_LABELS);
  return { created, controllerPassword: await readControllerPassword(cluster, secretName) };
}

/**
 * The controller user's password from the Secret, read only: the controller after making
 * sure the Secret exists, and the status command in the controller's pod, which never creates.
 */
export async function readControllerPassword(
  cluster: Pick<KubeCluster, 'readSecretValue'>,
  secretName: string,
): Promise<string> {
  const key = REDIS_USER_PASSWORD_KEYS[CONTROLLER_ACL_USER];
  const password = await cluster.readSecretValue(secretName, key);
  if (password === undefined) throw new Error(`Secret ${secretName} has no key ${key}`);
  return password;
}
