// Real service processes for fault tests: the production entry on free loopback ports
// (support/entry-processes.ts), configured for one stream and one pod name, so kill -9 is a
// real crash (sockets reset by the kernel, nothing flushed, nothing said to the clients).
import { startServiceProcess, type ServiceProcess } from '../../support/entry-processes.ts';
import { TEST_SECRET } from '../../support/instance.ts';

export type { ServiceProcess };

export interface ServiceProcessOptions {
  readonly redisUrl: string;
  readonly streamKey: string;
  readonly pod: string;
  readonly env?: Record<string, string>;
}

export function spawnService(options: ServiceProcessOptions): Promise<ServiceProcess> {
  return startServiceProcess({
    REDIS_URL: options.redisUrl,
    AUTH_JWT_SECRET: TEST_SECRET,
    POD_NAME: options.pod,
    REALTIME_STREAM_KEY: options.streamKey,
    MATCHES_KEY: `${options.streamKey}:matches`,
    REALTIME_STREAM_READ_BLOCK_MS: '1000',
    SSE_DRAIN_WINDOW_MS: '200',
    LOG_LEVEL: 'error',
    ...options.env,
  });
}
