// What the status command follows: the controller's own configuration (the same
// environment the controller reads, so `kubectl exec` into either pod sees its settings),
// with a StreamRemediationPolicy spec on top when --policy gives one, applied by the same
// code the controller applies its policy object with.
import { readFileSync } from 'node:fs';
import { loadControllerConfig } from '../config/controller.ts';
import { applyPolicySpec, parsePolicySpec, settingsFromConfig, type EffectiveSettings } from '../controller/policy.ts';

export class PolicyArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyArgumentError';
  }
}

/**
 * `--policy` takes inline JSON or a JSON file: a whole StreamRemediationPolicy
 * (`kubectl get streamremediationpolicy <name> -o json`) or just its spec.
 */
function readPolicyArgument(argument: string): unknown {
  let text: string;
  try {
    text = argument.trimStart().startsWith('{') ? argument : readFileSync(argument, 'utf8');
  } catch (error) {
    throw new PolicyArgumentError(`--policy: cannot read ${argument}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PolicyArgumentError(`--policy: not JSON (${(error as Error).message}); use kubectl's -o json`);
  }
  const object = value as { kind?: unknown; spec?: unknown } | null;
  return object !== null && typeof object === 'object' && typeof object.kind === 'string' ? object.spec : value;
}

export interface StatusSettings {
  readonly settings: EffectiveSettings;
  readonly redis: ReturnType<typeof loadControllerConfig>['redis'];
  /** Where the controller's Redis password is when its environment does not hold it (the default stack). */
  readonly redisUsersSecret:
    { readonly name: string; readonly namespace: string; readonly identity: string } | undefined;
}

export function statusSettings(env: Readonly<Record<string, string | undefined>>, policy?: string): StatusSettings {
  const config = loadControllerConfig(env);
  // Without a cluster the controller's settings are a dry run; the status command never acts either.
  const base = settingsFromConfig(config, false);
  const redisUsersSecret =
    config.redisUsersSecret === undefined
      ? undefined
      : { name: config.redisUsersSecret, namespace: config.namespace, identity: config.identity };
  if (policy === undefined) return { settings: base, redis: config.redis, redisUsersSecret };
  const parsed = parsePolicySpec(readPolicyArgument(policy));
  if (!parsed.ok) throw new PolicyArgumentError(`--policy: ${parsed.problem}`);
  return { settings: applyPolicySpec(base, parsed.spec), redis: config.redis, redisUsersSecret };
}
