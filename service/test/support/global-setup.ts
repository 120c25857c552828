// Vitest global setup: one private redis-server for the whole run, handed to tests as
// inject('redisUrl'). Tests isolate themselves with their own stream keys.
import type { TestProject } from 'vitest/node';
import { startThrowawayRedis, type ThrowawayRedis } from './throwaway-redis.ts';

let redis: ThrowawayRedis | undefined;

export async function setup(project: TestProject): Promise<void> {
  redis = await startThrowawayRedis();
  project.provide('redisUrl', redis.url);
}

export async function teardown(): Promise<void> {
  await redis?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
