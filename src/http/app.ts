// Declares req.requestId, req.log, req.pretty and req.auth.
import type {} from './request-context';
import type { Express, NextFunction, Request, Response } from 'express';
import express, { Router } from 'express';
import cors from 'cors';
import helmet from 'helmet';
import type { EngineDeps } from '../core/operations';
import { createNodeEngine } from '../node/engine';
import { loadR4Definitions } from '../node/definitions';
import { WRITTEN_TYPES } from './auth/scopes';
import { authenticate, createTokenVerifier } from './auth/token';
import { checkForwarding, SMART_DEFAULT_SCOPE, smartOrigins } from './auth/forward';
import type { AppConfig } from './config';
import type { AppContext, Routes } from './context';
import { errorHandler, notFoundHandler, rejectMalformedUrl } from './errors';
import { KeyedLock } from './keyed-lock';
import { createLogger, requestLogging } from './logging';
import { formBody, jsonBody, negotiate, rawJsonBody } from './negotiation';
import { cdsHooksRoutes } from './routes/cds-hooks';
import { conformanceRoutes } from './routes/conformance';
import { healthRoutes } from './routes/health';
import { metadataRoutes, smartConfigurationRoutes } from './routes/metadata';
import { planDefinitionRoutes } from './routes/plan-definition';
import { questionnairePopulateRoutes } from './routes/questionnaire-populate';
import { questionnaireResponseRoutes, RE_EVALUATE_PATH } from './routes/questionnaire-response';
import { terminologyRoutes } from './routes/terminology';
import { inProcessRunner } from './pool/runner';
import { ServedContent } from './served-content';
import { Summarizer } from './summary';
import type { UpstreamDeps } from './upstream/client';
import { createUpstreamClient } from './upstream/client';
import { webRoutes } from './web';

/** Resource types prepared at start (quick schema checks, definitions, element trees) so the first request does not pay for them. */
export const WARM_TYPES = [
  'QuestionnaireResponse',
  'Parameters',
  'Bundle',
  ...WRITTEN_TYPES,
  'PlanDefinition',
];

/** Test seams that are not configuration. */
export interface AppTestHooks {
  /** fetch, sleep and clock of the upstream client. */
  readonly upstream?: UpstreamDeps;
}

/**
 * Builds the Express app: the FHIR API under `fhirBase` (default `/fhir`), health endpoints, and the web
 * page (or a placeholder) at `/`. It does not listen; `server.ts` does.
 *
 * Middleware order: request id and access log → security headers (helmet; `x-powered-by` off) → CORS
 * (only when origins are configured) → 400 for a path that does not percent-decode → health → under the
 * FHIR base: SMART configuration → content negotiation (406/415) → `metadata` (public) → bearer auth
 * (401, when configured) → JSON body with the size limit (413; `$re-evaluate`'s read as bytes, parsed
 * in the pool) → operations, terminology, reads and
 * searches → JSON 404 → the error handler, which turns every error into an OperationOutcome.
 * @param config - Settings; every field has a default that serves the local demo.
 * @param hooks - Test seams.
 */
export function createApp(config: AppConfig = {}, hooks: AppTestHooks = {}): Express {
  const logger = config.logger ?? createLogger(config.logLevel);
  checkForwarding(config);
  const engine = config.engine ?? createNodeEngine();
  const deps: EngineDeps = {
    ...engine,
    clock: config.clock ?? engine.clock,
    newId: config.newId ?? engine.newId,
  };
  if (!config.tasks) {
    deps.validator.warm(WARM_TYPES); // with a pool, the workers validate
  }
  const fhirBase = normalizeBase(config.fhirBase ?? '/fhir');
  const limit = config.bodyLimit ?? '1mb';
  const corsOn = (config.corsOrigins?.length ?? 0) > 0;
  const definitions = loadR4Definitions();

  const ctx: AppContext = {
    deps,
    config,
    content: new ServedContent(deps.registry),
    summarizer: new Summarizer((type) => definitions.structureDefinition(type)),
    upstream: config.upstream ? createUpstreamClient(config.upstream, hooks.upstream) : undefined,
    lock: new KeyedLock(config.upstream?.maxQueuedPerResponse ?? 16),
    tasks: config.tasks ?? inProcessRunner(deps),
    fhirBase,
    baseUrl: (req: Request) =>
      config.publicBaseUrl?.replace(/\/+$/, '') ??
      `${req.protocol}://${req.get('host') ?? 'localhost'}${fhirBase}`,
  };

  const app = express();
  app.disable('x-powered-by');
  // Our reads set their own ETags (the resource version); Express's body hashes would be noise.
  app.set('etag', false);
  if (config.trustProxy !== undefined) {
    app.set('trust proxy', config.trustProxy);
  }
  app.use(requestLogging(logger));
  const https = config.publicBaseUrl?.startsWith('https://') === true;
  app.use(
    helmet({
      crossOriginResourcePolicy: { policy: corsOn ? 'cross-origin' : 'same-origin' },
      // helmet's strict default CSP, but `upgrade-insecure-requests` only when the public URL is
      // https: over plain HTTP on any host but localhost it made the page fetch its script over https.
      // With SMART launch the page also talks to the EHR: its FHIR server (our upstream) and its
      // authorization server (the token issuer and endpoint); nothing else.
      contentSecurityPolicy: {
        directives: {
          upgradeInsecureRequests: https ? [] : null,
          ...(config.smartLaunch ? { connectSrc: ["'self'", ...smartOrigins(config)] } : {}),
        },
      },
      // Browsers ignore (and complain about) Cross-Origin-Opener-Policy on an http origin.
      crossOriginOpenerPolicy: https,
    })
  );
  if (corsOn) {
    const origins = config.corsOrigins!;
    app.use(
      cors({
        origin: origins.includes('*') ? '*' : [...origins],
        exposedHeaders: ['ETag', 'Last-Modified', 'Location', 'X-Request-Id', 'WWW-Authenticate'],
      })
    );
  }
  app.use(rejectMalformedUrl);
  app.use(healthRoutes(ctx));

  const modules: Routes[] = [
    questionnaireResponseRoutes(ctx),
    questionnairePopulateRoutes(ctx),
    planDefinitionRoutes(ctx),
    terminologyRoutes(ctx),
    conformanceRoutes(ctx),
  ];
  const fhir = Router();
  if (config.auth) {
    fhir.use(smartConfigurationRoutes(ctx));
  }
  fhir.use(noStore);
  fhir.use(negotiate);
  fhir.use(
    metadataRoutes(
      ctx,
      modules.flatMap((m) => m.served),
      deps.clock().toISOString()
    )
  );
  if (config.auth) {
    fhir.use(authenticate(createTokenVerifier(config.auth)));
  }
  if (!ctx.upstream) {
    // `$re-evaluate` without an upstream hands its body's bytes to the pool, which parses them.
    fhir.use(rawJsonBody(limit, RE_EVALUATE_PATH));
  }
  fhir.use(jsonBody(limit), formBody(limit));
  for (const m of modules) {
    fhir.use(m.router);
  }
  fhir.use(notFoundHandler);
  app.use(fhirBase, fhir);

  if (config.cdsHooks) {
    app.use(cdsHooksRoutes(ctx, config.cdsHooks));
  }
  app.use(
    webRoutes(config.webRoot, {
      fhirBase,
      storage: ctx.upstream ? 'upstream' : 'none',
      ...(config.smartLaunch
        ? {
            smart: {
              clientId: config.smartLaunch.clientId,
              scope: config.smartLaunch.scope ?? SMART_DEFAULT_SCOPE,
              iss: config.upstream?.url,
            },
          }
        : {}),
    })
  );
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

/**
 * FHIR answers carry patient data or depend on the caller's token and Accept header: no cache may
 * keep them, and any that does must key them by those headers.
 */
function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.set('Cache-Control', 'no-store');
  res.vary('Accept');
  res.vary('Authorization');
  next();
}

function normalizeBase(base: string): string {
  const trimmed = `/${base.replace(/^\/+|\/+$/g, '')}`;
  return trimmed;
}
