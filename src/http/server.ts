import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { appConfigFromEnv, bindingWarning, serverConfigFromEnv } from './config';
import { createApp } from './app';
import { listen } from './lifecycle';
import { createLogger } from './logging';

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
  const app = createApp({ ...config, logger });
  const running = await listen(app, { ...server, logger });
  logger.info(
    {
      host: server.host ?? '(all interfaces)',
      port: running.port,
      fhirBase: config.fhirBase ?? '/fhir',
      auth: config.auth ? 'on' : 'OFF (local demo only)',
      upstream: config.upstream ? new URL(config.upstream.url).origin : 'none',
    },
    'listening'
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down');
      void running.shutdown().then((clean) => {
        logger.info({ clean }, 'stopped');
        logger.flush();
        process.exitCode = clean ? 0 : 1;
      });
    });
  }
}

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
