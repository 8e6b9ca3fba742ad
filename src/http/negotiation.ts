import { isUtf8 } from 'node:buffer';
import type { Request, RequestHandler } from 'express';
import express from 'express';
import type { HttpError } from './errors';
import { httpError } from './errors';

/** The `fhirVersion` MIME parameter values that mean R4 (http.html#version-parameter). */
const R4_VERSIONS = new Set(['4.0', '4.0.0', '4.0.1']);

/** A parsed media type or media range. */
export interface MediaType {
  readonly type: string;
  readonly subtype: string;
  readonly params: Readonly<Record<string, string>>;
  /** Quality (Accept only); 1 when absent. */
  readonly q: number;
}

/**
 * Parses a `Content-Type` value or an `Accept` list. Parameter names are lower-cased; quotes are removed.
 * Unparseable items are dropped.
 * @param header - The header value.
 */
export function parseMediaTypes(header: string | undefined): MediaType[] {
  if (!header) {
    return [];
  }
  const result: MediaType[] = [];
  for (const item of header.split(',')) {
    const [range, ...rest] = item.split(';');
    const match = /^\s*([\w.+*-]+)\/([\w.+*-]+)\s*$/.exec(range ?? '');
    if (!match) {
      continue;
    }
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) {
        params[p.slice(0, eq).trim().toLowerCase()] = p
          .slice(eq + 1)
          .trim()
          .replace(/^"(.*)"$/, '$1');
      }
    }
    const q = params.q === undefined ? 1 : Number(params.q);
    result.push({
      type: match[1]!.toLowerCase(),
      subtype: match[2]!.toLowerCase(),
      params,
      q: Number.isFinite(q) ? q : 0,
    });
  }
  return result;
}

function isJson(m: MediaType): boolean {
  return m.type === 'application' && (m.subtype === 'fhir+json' || m.subtype === 'json');
}

function isXml(m: MediaType): boolean {
  return m.subtype === 'xml' || m.subtype.endsWith('+xml');
}

function versionOk(m: MediaType): boolean {
  return m.params.fhirversion === undefined || R4_VERSIONS.has(m.params.fhirversion);
}

/** `_format` values (http.html#mime-type) that mean FHIR JSON. */
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json']);

/**
 * Checks that the client accepts FHIR JSON (from `_format`, else `Accept`), R4 in `fhirVersion`.
 * XML, Turtle and anything else get 406 with an OperationOutcome that says what is served.
 * @param req - The request.
 */
export function checkAcceptable(req: Request): void {
  const format = req.query._format;
  if (format !== undefined) {
    const value = typeof format === 'string' ? format : '';
    const [parsed] = parseMediaTypes(value.includes('/') ? value : `application/${value}`);
    const plain = value.split(';')[0]!.trim().toLowerCase();
    if (!JSON_FORMATS.has(plain) || (parsed && !versionOk(parsed))) {
      throw notAcceptable(
        /xml/i.test(value),
        parsed && !versionOk(parsed) ? parsed.params.fhirversion : undefined
      );
    }
    return;
  }
  const ranges = parseMediaTypes(req.get('accept')).filter((m) => m.q > 0);
  if (ranges.length === 0) {
    return;
  }
  const ok = ranges.some(
    (m) =>
      versionOk(m) &&
      (isJson(m) || (m.type === '*' && m.subtype === '*') || (m.type === 'application' && m.subtype === '*'))
  );
  if (!ok) {
    const wrongVersion = ranges.find((m) => isJson(m) && !versionOk(m));
    throw notAcceptable(ranges.some(isXml), wrongVersion?.params.fhirversion);
  }
}

function notAcceptable(xml: boolean, version: string | undefined): HttpError {
  if (version !== undefined) {
    return httpError(
      406,
      'not-supported',
      `FHIR version ${version} is not served; this server speaks FHIR R4 (fhirVersion=4.0)`
    );
  }
  return httpError(
    406,
    'not-supported',
    xml
      ? 'XML is not supported; this server produces application/fhir+json only'
      : 'This server produces application/fhir+json (or application/json) only'
  );
}

function hasBody(req: Request): boolean {
  return req.get('transfer-encoding') !== undefined || (req.get('content-length') ?? '0') !== '0';
}

/**
 * Checks the body's media type: FHIR JSON or plain JSON, R4 in `fhirVersion`; form-encoded only where
 * `form` allows it (`_search`). Anything else is 415.
 * @param req - The request.
 * @param form - True when `application/x-www-form-urlencoded` is acceptable.
 */
export function checkContentType(req: Request, form = false): void {
  if (!hasBody(req)) {
    return;
  }
  const [media] = parseMediaTypes(req.get('content-type'));
  if (!media) {
    throw httpError(415, 'not-supported', 'A body needs a Content-Type: application/fhir+json');
  }
  if (form && media.type === 'application' && media.subtype === 'x-www-form-urlencoded') {
    return;
  }
  if (!isJson(media)) {
    throw httpError(
      415,
      'not-supported',
      isXml(media)
        ? 'XML is not supported; send application/fhir+json'
        : `${media.type}/${media.subtype} is not supported; send application/fhir+json`
    );
  }
  if (!versionOk(media)) {
    throw httpError(
      415,
      'not-supported',
      `FHIR version ${media.params.fhirversion} is not accepted; send FHIR R4 (fhirVersion=4.0)`
    );
  }
}

/**
 * Per-request negotiation for the FHIR base: `Accept`/`_format` (406), the body's Content-Type (415)
 * and `_pretty` (400 when neither true nor false).
 */
export const negotiate: RequestHandler = (req, _res, next) => {
  checkAcceptable(req);
  checkContentType(req, req.method === 'POST' && req.path.endsWith('/_search'));
  const pretty = req.query._pretty;
  if (pretty !== undefined && pretty !== 'true' && pretty !== 'false') {
    throw httpError(400, 'invalid', '_pretty must be true or false');
  }
  req.pretty = pretty === 'true';
  next();
};

/** A body-parser error of a given `type` (mapped to its status in errors.ts). */
function bodyError(type: string, message: string): Error {
  return Object.assign(new Error(message), { type });
}

/**
 * FHIR bodies are UTF-8 (http.html#mime-type): another charset is refused (415, where body-parser
 * would decode UTF-16 or UTF-32), and so are bytes that are not UTF-8 (400, where decoding would
 * silently turn them into U+FFFD and change the data). A UTF-8 byte order mark is tolerated, as RFC 8259
 * allows.
 */
function verifyUtf8(_req: unknown, _res: unknown, body: Buffer, encoding: string): void {
  if (encoding !== 'utf-8') {
    throw bodyError('charset.unsupported', `charset ${encoding}`);
  }
  if (!isUtf8(body)) {
    throw bodyError('encoding.invalid', 'not UTF-8');
  }
}

/**
 * JSON body parser for FHIR JSON and plain JSON, with the size limit; `strict` so that a body must be an
 * object or an array (a bare `null`, number or string is not FHIR); UTF-8 only.
 * @param limit - Largest accepted body.
 */
export function jsonBody(limit: string | number): RequestHandler {
  return express.json({
    limit,
    strict: true,
    verify: verifyUtf8,
    type: (req) => {
      const [media] = parseMediaTypes((req.headers['content-type'] as string | undefined) ?? '');
      return media !== undefined && isJson(media);
    },
  });
}

/**
 * Content types the JSON parser reads as UTF-8 JSON without any doubt: FHIR JSON or plain JSON with at
 * most `charset=utf-8` and `fhirVersion` parameters, unquoted. Another form (a quoted value, another
 * charset or parameter) is left to the JSON parser as before.
 */
const PLAIN_UTF8_JSON =
  /^application\/(?:fhir\+)?json(?:[ \t]*;[ \t]*(?:charset=utf-8|fhirversion=[0-9.]+))*[ \t]*$/i;

/** UTF-8 check of a body read as bytes, as {@link verifyUtf8} checks one read for JSON (400). */
function verifyUtf8Bytes(_req: unknown, _res: unknown, body: Buffer): void {
  if (!isUtf8(body)) {
    throw bodyError('encoding.invalid', 'not UTF-8');
  }
}

/**
 * Reads the body of `POST {path}` as bytes (a Buffer in `req.body`) instead of parsing it, for a route
 * that has it parsed elsewhere (`$re-evaluate`: in a pool worker, json-text.ts). It takes over only
 * where {@link jsonBody} would read UTF-8 JSON (a content type of {@link PLAIN_UTF8_JSON}), with the same
 * reader (body-parser's, so the same size limit, decompression and errors: 413, 400) and the same UTF-8
 * check; anything else goes on to `jsonBody` untouched. It must come right before `jsonBody`, which then
 * finds the body read and leaves it.
 * @param limit - Largest accepted body.
 * @param path - The route's path under the FHIR base.
 */
export function rawJsonBody(limit: string | number, path: string): RequestHandler {
  const raw = express.raw({ limit, type: () => true, verify: verifyUtf8Bytes });
  return (req, res, next) => {
    if (req.method !== 'POST' || req.path !== path || !PLAIN_UTF8_JSON.test(req.get('content-type') ?? '')) {
      next();
      return;
    }
    raw(req, res, next);
  };
}

/**
 * Form body parser for `POST [type]/_search`.
 * @param limit - Largest accepted body.
 */
export function formBody(limit: string | number): RequestHandler {
  return express.urlencoded({ limit, extended: false, parameterLimit: 100 });
}
