import { Router } from 'express';
import { MANAGEMENT_PATHWAY } from '../../core/constants';
import type { AppContext } from '../context';
import { httpError } from '../errors';

/**
 * `GET /healthz` (liveness: the process answers) and `GET /readyz` (readiness: the content is loaded,
 * the management pathway resolves, a worker of the pool has started, and the upstream answers `metadata` when one is configured; 503
 * with an OperationOutcome otherwise).
 * @param ctx - The app context.
 */
export function healthRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (!ctx.deps.registry.resolve(MANAGEMENT_PATHWAY, 'PlanDefinition')) {
      throw httpError(503, 'transient', 'The conformance content is not loaded');
    }
    if (!ctx.tasks.isReady()) {
      throw httpError(503, 'transient', 'No worker of the pool has loaded the content yet');
    }
    if (ctx.upstream && !(await ctx.upstream.reachable())) {
      throw httpError(503, 'transient', 'The upstream FHIR server is not reachable');
    }
    res.json({ status: 'ready', content: 'loaded', upstream: ctx.upstream ? 'reachable' : 'not configured' });
  });
  return router;
}
