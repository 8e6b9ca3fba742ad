import { join } from 'node:path';
import express, { Router } from 'express';

/**
 * What is served outside the FHIR base: the web page. With `webRoot`, its static files at `/` (and its
 * `index.html` at `/app`); without it, a small placeholder page that points at the API. The clinician
 * page replaces this by setting `webRoot` (or `WEB_ROOT`).
 * @param webRoot - Directory of the built page, if any.
 * @param fhirBase - Path of the FHIR base, for the placeholder's links.
 */
export function webRoutes(webRoot: string | undefined, fhirBase: string): Router {
  const router = Router();
  if (webRoot) {
    router.use(express.static(webRoot, { index: 'index.html', fallthrough: true }));
    router.get('/app', (_req, res) => {
      res.sendFile(join(webRoot, 'index.html'));
    });
    return router;
  }
  router.get('/', (_req, res) => {
    res
      .type('html')
      .send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>re-fhir</title></head><body>' +
          '<h1>re-fhir</h1><p>The FHIR R4 API is at ' +
          `<a href="${fhirBase}/metadata">${fhirBase}</a>. The web page is not installed on this server.</p>` +
          '</body></html>'
      );
  });
  return router;
}
