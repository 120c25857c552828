// Local development entry (`npm start`): uses REDIS_URL when set, else a Redis answering on
// 127.0.0.1:6379, else a private throwaway redis-server (the one the test suites start);
// makes up a random token secret and serves development tokens, so the service runs in one
// command on a fresh checkout. Not part of the build (tsconfig.build.json): the image starts
// main.ts, which never spawns anything.
import { randomBytes } from 'node:crypto';
import { RedisServerMissingError, redisAnswers, startThrowawayRedis } from '#test-support/throwaway-redis';
import { ConfigError, loadServiceConfig } from './config/index.ts';
import { signToken } from './auth/index.ts';
import { createLogger, runService } from './service.ts';

const env: Record<string, string | undefined> = { ...process.env };
const log = createLogger(env.LOG_LEVEL ?? 'info');

try {
  let throwaway: Awaited<ReturnType<typeof startThrowawayRedis>> | undefined;
  if (!env.REDIS_URL && !env.REDIS_SENTINELS && !env.REDIS_CLUSTER_NODES) {
    if (await redisAnswers('127.0.0.1', 6379)) {
      log.info('using the Redis answering on 127.0.0.1:6379 (set REDIS_URL to choose another)');
    } else {
      throwaway = await startThrowawayRedis();
      env.REDIS_URL = throwaway.url;
      log.info(
        { url: throwaway.url, pid: throwaway.pid },
        'no Redis configured or running: started a throwaway redis-server (data is discarded on exit)',
      );
    }
  }
  if (!env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL) {
    env.AUTH_JWT_SECRET = randomBytes(32).toString('base64url');
    env.AUTH_DEV_TOKENS = 'true';
  }
  // A laptop service listens on loopback unless told otherwise.
  env.HOST ||= '127.0.0.1';
  const config = loadServiceConfig(env);
  const service = await runService(config, log);
  if (config.auth.devTokens && config.auth.jwtSecret !== undefined) {
    const token = await signToken(config.auth.jwtSecret, { sub: 'dev-admin', role: 'admin' }, { expiresIn: '12h' });
    log.info(
      { tryIt: `curl -N -H 'Authorization: Bearer ${token}' http://127.0.0.1:${config.port}/api/realtime/stream` },
      'development mode: random token secret; GET /api/dev/token mints tokens; an admin token for curl follows',
    );
  }
  if (throwaway !== undefined) {
    const redis = throwaway;
    service.app.addHook('onClose', async () => redis.stop());
  }
} catch (error) {
  if (error instanceof RedisServerMissingError || error instanceof ConfigError) {
    log.fatal(error.message);
    process.exit(1);
  }
  throw error;
}
