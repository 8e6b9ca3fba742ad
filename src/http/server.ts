import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  appConfigFromEnv,
  bindingWarning,
  poolConfigFromEnv,
  serverConfigFromEnv,
  serverLimitsFromEnv,
} from './config';
import { createApp, WARM_TYPES } from './app';
import { listen } from './lifecycle';
import { createLogger } from './logging';
import { WorkerPool } from './pool/pool';

/**
 * The start script (`npm start`): reads the environment, builds the app, listens (PORT, default 8080)
 * and stops gracefully on SIGTERM/SIGINT (in-flight requests finish; see lifecycle.ts).
 */
async function main(): Promise<void> {
  const fromEnv = appConfigFromEnv(process.env);
  const config = { ...fromEnv, webRoot: fromEnv.webRoot ?? builtWebRoot() };
  const server = serverConfigFromEnv(process.env);
  const logger = createLogger(config.logLevel);
  const warning = bindingWarning(server, config);
  if (warning) {
    logger.warn({ host: server.host ?? '(all interfaces)' }, warning);
  }
  const poolConfig = poolConfigFromEnv(process.env);
  const limits = serverLimitsFromEnv(process.env);
  const pool =
    poolConfig.workers > 0
      ? new WorkerPool({ ...poolConfig, size: poolConfig.workers, warmTypes: WARM_TYPES, logger })
      : undefined;
  const app = createApp({ ...config, logger, tasks: pool });
  const running = await listen(app, { ...server, logger, limits });
  logger.info(
    {
      host: server.host ?? '(all interfaces)',
      port: running.port,
      fhirBase: config.fhirBase ?? '/fhir',
      auth: config.auth ? 'on' : 'OFF (local demo only)',
      upstream: config.upstream ? new URL(config.upstream.url).origin : 'none',
      workers: poolConfig.workers,
    },
    'listening'
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      const started = performance.now();
      logger.info({ signal }, 'shutting down');
      // Should anything still hold the process after the timeout (and the pool's close), it exits anyway.
      setTimeout(() => {
        logger.error({ timeoutMs: server.shutdownTimeoutMs }, 'forced exit: the process did not stop');
        logger.flush();
        process.exit(1);
      }, server.shutdownTimeoutMs + FORCED_EXIT_GRACE_MS).unref();
      void running.shutdown().then(async (httpClean) => {
        // Tasks still running in the pool now have no one to answer: they are abandoned, and said so.
        const abandoned = (await pool?.close()) ?? 0;
        const clean = httpClean && abandoned === 0;
        logger.info(
          {
            clean,
            connectionsCut: !httpClean,
            tasksAbandoned: abandoned,
            ms: Math.round(performance.now() - started),
          },
          'stopped'
        );
        logger.flush();
        process.exitCode = clean ? 0 : 1;
      });
    });
  }
}

/** How long past the shutdown timeout the process may take to exit before it is ended. */
const FORCED_EXIT_GRACE_MS = 5_000;

/**
 * The clinician page that `npm run build` writes next to this bundle (dist/web beside dist/server),
 * served at `/` unless WEB_ROOT names another directory. Run from the sources (tsx), there is none.
 */
function builtWebRoot(): string | undefined {
  const dir = join(__dirname, '..', 'web');
  return existsSync(join(dir, 'app.js')) ? dir : undefined;
}

main().catch((err: unknown) => {
  console.error('re-fhir server failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
