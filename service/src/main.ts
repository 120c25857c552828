// Production entry (`node dist/main.js` in the image): configuration comes only from the
// environment, REDIS_URL (or Sentinels) and an auth setting are required, nothing is spawned.
import { ConfigError, loadServiceConfig } from './config/index.ts';
import { runCluster } from './cluster.ts';
import { createLogger, runService } from './service.ts';

function fail(message: string): never {
  process.stderr.write(`trayb-realtime: ${message}\n`);
  process.exit(1);
}

try {
  const env = process.env;
  if (!env.REDIS_URL && !env.REDIS_SENTINELS && !env.REDIS_CLUSTER_NODES)
    fail('REDIS_URL (or REDIS_SENTINELS, or REDIS_CLUSTER_NODES) is required');
  if (!env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL)
    fail('auth is on by default: set AUTH_JWKS_URL (production) or AUTH_JWT_SECRET');
  if (env.AUTH_DEV_TOKENS === 'true') fail('AUTH_DEV_TOKENS is for local development (npm start) only');
  const config = loadServiceConfig(env);
  const log = createLogger(config.logLevel);
  if (config.webConcurrency > 1) await runCluster(config, log);
  else await runService(config, log);
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
