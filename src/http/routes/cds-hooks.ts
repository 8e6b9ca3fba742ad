import cors from 'cors';
import express, { Router } from 'express';
import type { CdsService } from '../../core/cds-hooks';
import { cdsCards, checkCdsRequest, hookDefinitions, recordBundle } from '../../core/cds-hooks';
import { CdsClientAuth } from '../cds-hooks/client-auth';
import { fetchMissingPrefetch } from '../cds-hooks/fetch-prefetch';
import type { CdsHooksConfig } from '../config';
import type { AppContext } from '../context';
import { httpError } from '../errors';

/**
 * CDS Hooks 2.0: `GET /cds-services` (discovery) and `POST /cds-services/{id}` (a hook call), for the
 * services the content defines (PlanDefinitions with a named-event trigger). Thin: the client's JWT is
 * checked here, missing prefetch is read here; the rules run in the core.
 * See: https://cds-hooks.hl7.org/2.0/
 * @param ctx - the app context
 * @param config - the CDS Hooks settings
 */
export function cdsHooksRoutes(ctx: AppContext, config: CdsHooksConfig): Router {
  const hooks = hookDefinitions(ctx.deps.registry);
  const services: CdsService[] = hooks.map((h) => h.service);
  const auth = new CdsClientAuth(config.clients);
  const base = config.baseUrl.replace(/\/+$/, '');
  const launchUrl = config.launchUrl ?? `${base}/launch.html`;

  const router = Router();
  // CDS clients call from the browser (the spec requires CORS); bearer tokens, never cookies.
  router.use(
    '/cds-services',
    cors({ origin: '*', allowedHeaders: ['Authorization', 'Content-Type'], methods: ['GET', 'POST'] })
  );
  router.get('/cds-services', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ services });
  });
  router.post(
    '/cds-services/:id',
    async (req, _res, next) => {
      const hook = hooks.find((h) => h.service.id === req.params.id);
      if (!hook) {
        throw httpError(404, 'not-found', `No CDS service ${JSON.stringify(req.params.id.slice(0, 64))}`);
      }
      await auth.verify(req, `${base}/cds-services/${hook.service.id}`);
      next();
    },
    express.json({
      limit: ctx.config.bodyLimit ?? '1mb',
      type: ['application/json', 'application/fhir+json'],
    }),
    async (req, res) => {
      const hook = hooks.find((h) => h.service.id === req.params.id)!;
      if (!req.is(['application/json', 'application/fhir+json'])) {
        throw httpError(415, 'not-supported', 'A CDS Hooks request is JSON (Content-Type: application/json)');
      }
      const request = checkCdsRequest(req.body, hook.service);
      const fetched = await fetchMissingPrefetch(hook.service.prefetch ?? {}, request, config);
      const record = recordBundle(hook.planDefinition, request, fetched, ctx.deps);
      const response = cdsCards(hook.planDefinition, request, record, ctx.deps, { launchUrl });
      res.set('Cache-Control', 'no-store').json(response);
    }
  );
  return router;
}
