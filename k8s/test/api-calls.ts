// Records every Kubernetes API request a client makes, as the RBAC grant it needs
// (`<group>/<resource>[/<subresource>]:<verb>`, group `core` for the legacy API), so a suite
// can compare what the controller really called with what its Role grants: the check follows
// the code, not a list kept beside it.
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from './render.ts';

/** The grant a request needs, read from its method and path as the apiserver's RBAC does. */
export function grantOf(method: string, url: string): string {
  const { pathname, searchParams } = new URL(url);
  const parts = pathname.split('/').filter((p) => p !== '');
  // /api/v1/... or /apis/<group>/<version>/...
  const [group, rest] = parts[0] === 'api' ? ['core', parts.slice(2)] : [parts[1] ?? '', parts.slice(3)];
  const scoped = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  const [resource, name, subresource] = scoped;
  const verbs: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch' };
  const verb =
    method === 'GET'
      ? name !== undefined
        ? 'get'
        : searchParams.get('watch') === 'true'
          ? 'watch'
          : 'list'
      : method === 'DELETE'
        ? name !== undefined
          ? 'delete'
          : 'deletecollection'
        : (verbs[method] ?? method.toLowerCase());
  return `${group}/${resource ?? ''}${subresource === undefined ? '' : `/${subresource}`}:${verb}`;
}

/** Wraps `config` so every request made through clients built from it is recorded in `into`. */
export function recordApiCalls(config: KubeConfig, into: Set<string>): KubeConfig {
  const authenticate = config.applySecurityAuthentication.bind(config);
  config.applySecurityAuthentication = async (context) => {
    into.add(grantOf(context.getHttpMethod(), context.getUrl()));
    await authenticate(context);
  };
  return config;
}

/** What a Role grants, in the same `<group>/<resource>:<verb>` form. */
export function roleGrants(role: KubeObject): string[] {
  return (role['rules'] as { apiGroups: string[]; resources: string[]; verbs: string[] }[]).flatMap((rule) =>
    rule.apiGroups.flatMap((group) =>
      rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${group || 'core'}/${resource}:${verb}`)),
    ),
  );
}
