// The default stack's Redis ACL (k8s/base/redis/acl.yaml): the users of service/src/redis/acl.ts
// with the keys the bundle configures (k8s/base/stream.env), as a ConfigMap the Redis pod
// turns into its ACL file. Passwords are not in it: the pod adds them from the Secret the
// controller creates (k8s/base/redis/statefulset.yaml). A Redis ACL file has no comment
// syntax, so the file lives in YAML, where the generated-file header fits.
import { parseEnv } from 'node:util';
import { stringify } from 'yaml';
import { loadServiceConfig } from '../../service/src/config/index.ts';
import { aclFile, controllerAclUser, serviceAclUser } from '../../service/src/redis/acl.ts';
import type { GeneratedFile } from './generated-file.ts';

export const REDIS_ACL_PATH = 'k8s/base/redis/acl.yaml';
export const REDIS_ACL_CONFIGMAP = 'trayb-realtime-redis-acl';

/** `streamEnv`: the text of k8s/base/stream.env, which the service and the controller both read. */
export function redisAclFile(streamEnv: string): GeneratedFile {
  const { stream, http, rateLimits } = loadServiceConfig(parseEnv(streamEnv));
  const users = [
    serviceAclUser({ stream: stream.key, matches: http.matchesKey, rateLimitPrefix: rateLimits.keyPrefix }),
    controllerAclUser({ stream: stream.key }),
  ];
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: REDIS_ACL_CONFIGMAP,
      labels: { 'app.kubernetes.io/name': 'trayb-realtime', 'app.kubernetes.io/component': 'redis' },
    },
    data: { 'users.acl': aclFile(users) },
  };
  return { path: REDIS_ACL_PATH, source: 'service/src/redis/acl.ts', content: stringify(configMap, { lineWidth: 0 }) };
}
