// Least privilege in Redis: the ACL users the service and the controller connect as, each
// allowed only the commands and keys its code sends. This list is the one place they are
// written down: the bundle's ACL (k8s/base/redis, `npm run generate`) and the test that runs
// both processes against a Redis enforcing it (service/test/redis-acl.test.ts) are derived
// from it, so a new command in the code fails that test until it is added here.
import { SSE_METRICS_HASH } from '../contract/index.ts';

export const SERVICE_ACL_USER = 'trayb-realtime-service';
export const CONTROLLER_ACL_USER = 'trayb-realtime-controller';

export interface AclUser {
  readonly name: string;
  /** Exact key names: the user may touch these… */
  readonly keys: readonly string[];
  /** …and the keys starting with these prefixes, nothing else. */
  readonly keyPrefixes?: readonly string[];
  /** Commands, or `command|subcommand` where a command does several things. */
  readonly commands: readonly string[];
}

/**
 * What every connection sends before its first command: ioredis names the connection
 * (CLIENT SETNAME, so CLIENT LIST tells the reader from the publisher) and waits for INFO to
 * say the server has loaded its data; PING is what the bundle's readiness probe sends.
 * AUTH and HELLO need no permission.
 */
const CONNECTION_COMMANDS = ['client|setname', 'info', 'ping'];

/**
 * The service: publishes (XADD), reads its own consumer group (XGROUP CREATE/SETID,
 * XREADGROUP, XACK), replays for resuming clients (XINFO STREAM, XRANGE, XREVRANGE), keeps the
 * matches (HGET, HVALS, and a script that compares, writes and appends in one step: EVALSHA,
 * EVAL when the script is not cached, HSET, HDEL inside it), the runbook's counters
 * (HINCRBY on metrics:sse) and the limits shared by every replica under the rate-limit prefix
 * (@fastify/rate-limit's scripts call INCR, PEXPIRE, PTTL and GET; the failed-authentication
 * count reads with GET and PTTL and counts with INCR and PEXPIRE in MULTI/EXEC).
 */
export function serviceAclUser(keys: {
  readonly stream: string;
  readonly matches: string;
  readonly rateLimitPrefix: string;
}): AclUser {
  return {
    name: SERVICE_ACL_USER,
    keys: [keys.stream, keys.matches, SSE_METRICS_HASH],
    keyPrefixes: [keys.rateLimitPrefix],
    commands: [
      ...CONNECTION_COMMANDS,
      'xadd',
      'xgroup|create',
      'xgroup|setid',
      'xreadgroup',
      'xack',
      'xinfo|stream',
      'xrange',
      'xrevrange',
      'hget',
      'hvals',
      'hset',
      'hdel',
      'evalsha',
      'eval',
      'hincrby',
      'get',
      'incr',
      'pexpire',
      'pttl',
      'multi',
      'exec',
    ],
  };
}

/**
 * The controller: observes the stream and every group (XLEN, EXISTS, XINFO GROUPS and
 * CONSUMERS, XPENDING) and destroys the groups of pods that are gone (XGROUP DESTROY). The
 * status command runs in its pod as the same user and also reads the stream's ends (XRANGE,
 * XREVRANGE), Redis's clock (TIME) and the runbook's counters (HGETALL metrics:sse). It never
 * writes an entry and never reads the matches.
 */
export function controllerAclUser(keys: { readonly stream: string }): AclUser {
  return {
    name: CONTROLLER_ACL_USER,
    keys: [keys.stream, SSE_METRICS_HASH],
    commands: [
      ...CONNECTION_COMMANDS,
      'xlen',
      'exists',
      'xinfo|groups',
      'xinfo|consumers',
      'xpending',
      'xgroup|destroy',
      'xrange',
      'xrevrange',
      'time',
      'hgetall',
    ],
  };
}

/**
 * The user's rules as ACL SETUSER and an ACL file take them, without a password: `reset`
 * first, so applying them to an existing user removes whatever it was allowed before, then
 * no Pub/Sub channels, the keys, and `-@all` before the commands, so nothing else is allowed.
 */
export function aclRules(user: AclUser): string {
  return [
    'reset',
    'on',
    'resetchannels',
    ...user.keys.map((key) => `~${key}`),
    ...(user.keyPrefixes ?? []).map((prefix) => `~${prefix}*`),
    '-@all',
    ...user.commands.map((c) => `+${c}`),
  ].join(' ');
}

/**
 * Lines of a Redis ACL file (`aclfile`) for these users. The `default` user, which any
 * client is without AUTH, is switched off: without credentials nothing is allowed. Passwords,
 * when given, go at the end of their user's line (`>password`).
 */
export function aclFile(users: readonly AclUser[], passwords: Readonly<Record<string, string>> = {}): string {
  const lines = users.map((user) => {
    const password = passwords[user.name];
    return `user ${user.name} ${aclRules(user)}${password === undefined ? '' : ` >${password}`}`;
  });
  return ['user default reset off', ...lines, ''].join('\n');
}
