import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RequestHandler } from 'express';
import express, { Router } from 'express';
import { escapeXhtml } from '../core/narrative/narrative';

/** What `$re-evaluate` does with its Bundle: returns it (`none`) or writes it to an upstream server. */
export type StorageMode = 'none' | 'upstream';

/** What the web page is told about this server. */
export interface PageSettings {
  /** Path of the FHIR base, normalised (`/fhir`, `/api/fhir`). */
  readonly fhirBase: string;
  readonly storage: StorageMode;
  /** SMART App Launch: the page's client id and scopes at the EHR; absent, `launch.html` says it is off. */
  readonly smart?: { readonly clientId: string; readonly scope: string; readonly iss?: string };
}

/**
 * What is served outside the FHIR base: the web page. With `webRoot`, its static files at `/`, and its
 * `index.html` at `/`, `/index.html` and `/app` with the page's settings filled in (see fillPage);
 * without it, a small placeholder page that points at the API. The clinician page replaces this by
 * setting `webRoot` (or `WEB_ROOT`).
 * @param webRoot - Directory of the built page, if any.
 * @param settings - The FHIR base path and the storage mode, told to the page.
 */
export function webRoutes(webRoot: string | undefined, settings: PageSettings): Router {
  const router = Router();
  const { fhirBase } = settings;
  if (webRoot) {
    const page: RequestHandler = async (_req, res, next) => {
      let html: string;
      try {
        html = await readFile(join(webRoot, 'index.html'), 'utf8');
      } catch (err) {
        // No index.html: a 404 like any other missing file.
        next((err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : err);
        return;
      }
      // The page depends on the configuration (and on the build): never reuse it without asking.
      res.set('Cache-Control', 'no-cache').type('html').send(fillPage(html, settings));
    };
    // `/smart` is the SMART redirect URI: the same page, which there completes the launch (main.tsx).
    router.get(['/', '/index.html', '/app', '/smart'], page);
    router.get('/launch.html', async (_req, res, next) => {
      let html: string;
      try {
        html = await readFile(join(webRoot, 'launch.html'), 'utf8');
      } catch (err) {
        next((err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : err);
        return;
      }
      res.set('Cache-Control', 'no-cache').type('html').send(fillLaunchPage(html, settings));
    });
    router.use(express.static(webRoot, { index: false, fallthrough: true }));
    return router;
  }
  router.get('/', (_req, res) => {
    const base = escapeXhtml(fhirBase);
    res
      .type('html')
      .send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>re-fhir</title></head><body>' +
          '<h1>re-fhir</h1><p>The FHIR R4 API is at ' +
          `<a href="${base}/metadata">${base}</a>. The web page is not installed on this server.</p>` +
          '</body></html>'
      );
  });
  return router;
}

const CLIENT_META = /<meta\s+name="re-fhir-smart-client-id"\s+content="[^"]*"/;
const SCOPE_META = /<meta\s+name="re-fhir-smart-scope"\s+content="[^"]*"/;
const ISS_META = /<meta\s+name="re-fhir-smart-iss"\s+content="[^"]*"/;

/**
 * Fills in `launch.html` (src/web/launch.html): the page's SMART client id and scopes, empty when
 * SMART launch is not configured (the page then says so instead of starting a launch), and the upstream
 * FHIR base, the only `iss` the page accepts (this server reads and writes there, nowhere else).
 * @param html - The launch page.
 * @param settings - The page settings.
 */
export function fillLaunchPage(html: string, settings: PageSettings): string {
  return html
    .replace(
      CLIENT_META,
      `<meta name="re-fhir-smart-client-id" content="${escapeXhtml(settings.smart?.clientId ?? '')}"`
    )
    .replace(
      SCOPE_META,
      `<meta name="re-fhir-smart-scope" content="${escapeXhtml(settings.smart?.scope ?? '')}"`
    )
    .replace(ISS_META, `<meta name="re-fhir-smart-iss" content="${escapeXhtml(settings.smart?.iss ?? '')}"`);
}

const BASE_META = /<meta\s+name="re-fhir-base"\s+content="[^"]*"/;
const STORAGE_META = /<meta\s+name="re-fhir-storage"\s+content="[^"]*"/;
const NOSCRIPT_LINK = /(<noscript>(?:(?!<\/noscript>)[\s\S])*?<a\s+href=")[^"]*("[^>]*>)[^<]*(<\/a>)/;

/**
 * Fills in the settings of the page's `index.html` (src/web/index.html): the FHIR base in
 * `<meta name="re-fhir-base">` and the `<noscript>` link, and the storage mode in
 * `<meta name="re-fhir-storage">`. The base is written relative to the page (`./api/fhir/`, which
 * the page resolves against its own URL), so that a proxy that mounts this server under a prefix
 * keeps working; every value is escaped for an HTML attribute or text. A page without the
 * `re-fhir-base` element (another page in `WEB_ROOT`) is served as it is.
 * @param html - The page's `index.html`.
 * @param settings - The FHIR base path and the storage mode.
 */
export function fillPage(html: string, settings: PageSettings): string {
  if (!BASE_META.test(html)) {
    return html;
  }
  // `./` keeps a first segment with a colon from reading as a URL scheme.
  const base = `.${settings.fhirBase.replace(/\/+$/, '')}/`;
  return html
    .replace(BASE_META, `<meta name="re-fhir-base" content="${escapeXhtml(base)}"`)
    .replace(STORAGE_META, `<meta name="re-fhir-storage" content="${escapeXhtml(settings.storage)}"`)
    .replace(
      NOSCRIPT_LINK,
      (_m, open: string, close: string, end: string) =>
        `${open}${escapeXhtml(`${base}metadata`)}${close}${escapeXhtml(base)}${end}`
    );
}
