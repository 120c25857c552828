// The stream-consumer naming rule the service and the controller share: how an instance's
// consumer group is named, and how the controller reads a group name back to the pod it
// belongs to. A pod runs one instance (group `<prefix>:<pod>`) or, with WEB_CONCURRENCY > 1,
// one per worker (`<prefix>:<pod>-w<N>`); all of them are that pod's.

const WORKER_SUFFIX = /-w\d+$/;

export function groupName(prefix: string, instance: string): string {
  return `${prefix}:${instance}`;
}

/** The instance name of cluster worker `index` (1-based) of `pod`. */
export function workerInstance(pod: string, index: number): string {
  return `${pod}-w${index}`;
}

/** The pod an instance runs in. Deployment and StatefulSet pod names never end in -w<N>. */
export function podOfInstance(instance: string): string {
  return instance.replace(WORKER_SUFFIX, '');
}

/**
 * The pod a consumer group belongs to, or undefined when the group is not under `prefix`
 * (another reader of the stream). The prefix may itself contain ':', so the instance is what
 * follows the prefix, never what follows the first ':'.
 */
export function podOfGroup(prefix: string, group: string): string | undefined {
  const head = `${prefix}:`;
  return group.startsWith(head) ? podOfInstance(group.slice(head.length)) : undefined;
}
