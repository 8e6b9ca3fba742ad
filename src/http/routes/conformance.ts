import type { Request, RequestHandler } from 'express';
import { Router } from 'express';
import { authorize, readNeed } from '../auth/scopes';
import type { ServedType } from '../capability';
import type { AppContext, Routes } from '../context';
import { httpError, methodNotAllowed } from '../errors';
import { checkContentType } from '../negotiation';
import { searchBundle, searchParamDefinition, SEARCH_PARAMS } from '../search';
import { sendResource } from '../send';
import { CONFORMANCE_TYPES } from '../served-content';
import { summaryMode } from '../summary';

/** FHIR logical ids (R4 datatypes.html#id). */
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

function strict(req: Request): boolean {
  return /(^|[;,\s])handling\s*=\s*strict\b/.test(req.get('prefer') ?? '');
}

/**
 * Read and search of the shipped conformance resources: `GET [type]/[id]` with ETag/Last-Modified and
 * `If-None-Match` (304), `GET [type]?…` and `POST [type]/_search` with `_id`, `url`, `version`, `name`,
 * `status`, `_count`, `_offset`, `_summary`. Every other method on these paths is 405.
 * See: https://hl7.org/fhir/R4/http.html#read and https://hl7.org/fhir/R4/search.html
 * @param ctx - The app context.
 */
export function conformanceRoutes(ctx: AppContext): Routes {
  const router = Router();
  const served: ServedType[] = [];

  for (const type of CONFORMANCE_TYPES) {
    const search: RequestHandler = (req, res) => {
      authorize(req, [readNeed(type, true)]);
      const query = req.method === 'POST' ? { ...(req.body as object), ...req.query } : req.query;
      const summary = summaryMode((query as Record<string, unknown>)._summary);
      const bundle = searchBundle(
        ctx.content.ofType(type),
        {
          type,
          query: query as Record<string, unknown>,
          strict: strict(req),
          summary,
          baseUrl: ctx.baseUrl(req),
        },
        (resource) => ctx.summarizer.apply(resource, summary)
      );
      sendResource(req, res, 200, bundle);
    };
    router.get(`/${type}`, search);
    router.post(`/${type}/_search`, (req, res, next) => {
      checkContentType(req, true);
      search(req, res, next);
    });
    router.all(`/${type}/_search`, methodNotAllowed(['POST']));
    router.all(`/${type}`, methodNotAllowed(['GET']));

    router.get(`/${type}/:id`, (req, res) => {
      const id = req.params.id as string;
      if (id.startsWith('$')) {
        throw httpError(404, 'not-found', `Operation ${id} is not supported on ${type}`);
      }
      if (!ID.test(id)) {
        throw httpError(400, 'invalid', `${id.slice(0, 80)} is not a valid FHIR id`);
      }
      authorize(req, [readNeed(type)]);
      const found = ctx.content.read(type, id);
      if (!found) {
        throw httpError(404, 'not-found', `${type}/${id} is not known`);
      }
      const summary = summaryMode(req.query._summary);
      if (summary === 'count') {
        throw httpError(400, 'invalid', '_summary=count applies to searches only');
      }
      res.setHeader('ETag', found.etag);
      if (found.lastModified) {
        res.setHeader('Last-Modified', found.lastModified);
      }
      if (ifNoneMatch(req.get('if-none-match'), found.etag)) {
        res.status(304).end();
        return;
      }
      sendResource(req, res, 200, ctx.summarizer.apply(found.resource, summary));
    });
    router.all(`/${type}/:id`, (req, _res, next) => {
      if ((req.params.id as string).startsWith('$')) {
        next(httpError(404, 'not-found', `Operation ${req.params.id} is not supported on ${type}`));
        return;
      }
      methodNotAllowed(['GET'])(req, _res, next);
    });

    served.push({
      type,
      interactions: ['read', 'search-type'],
      searchParams: SEARCH_PARAMS.map((p) => ({
        name: p.name,
        type: p.type,
        definition: searchParamDefinition(type, p.name),
      })),
    });
  }
  return { router, served };
}

/** `If-None-Match` matches when it lists the ETag (weak comparison) or is `*`. */
function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) {
    return false;
  }
  const bare = (tag: string): string => tag.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag));
}
