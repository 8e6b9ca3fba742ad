import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillPage } from '../../src/http/web';
import { fhirBaseUrl } from '../../src/web/api';
import type { TestServer } from '../helpers/http';
import { startServer } from '../helpers/http';

describe('the web page slot at /', () => {
  let dir: string;
  let server: TestServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 're-fhir-web-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>page</title><p>clinician page</p>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1);');
    server = await startServer({ webRoot: dir });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('serves webRoot at / and its index.html at /app, the API still under /fhir', async () => {
    expect(await (await fetch(`${server.origin}/`)).text()).toContain('clinician page');
    expect(await (await fetch(`${server.origin}/app`)).text()).toContain('clinician page');
    const script = await fetch(`${server.origin}/app.js`);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${server.base}/metadata`)).status).toBe(200);
  });

  test('a missing file is a JSON 404', async () => {
    const res = await fetch(`${server.origin}/missing.js`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
  });
});

/** The value of an attribute as a browser reads it (the numeric character references fillPage writes, decoded). */
function attribute(html: string, pattern: RegExp): string {
  const raw = pattern.exec(html)?.[1];
  expect(raw).toBeDefined();
  return raw!.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)));
}

const BASE_META = /<meta name="re-fhir-base" content="([^"]*)"/;
const STORAGE_META = /<meta name="re-fhir-storage" content="([^"]*)"/;
const NOSCRIPT_HREF = /<noscript>[^<]*<a href="([^"]*)"/;

describe("the clinician page's settings, filled in by the server", () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 're-fhir-web-'));
    copyFileSync(join(__dirname, '../../src/web/index.html'), join(dir, 'index.html'));
    writeFileSync(join(dir, 'app.js'), 'console.log(1);');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a non-default FHIR base: the page at /, /index.html and /app finds it, and the FHIR API answers there', async () => {
    const server = await startServer({ webRoot: dir, fhirBase: '/api/fhir' });
    try {
      for (const path of ['/', '/index.html', '/app']) {
        const res = await fetch(`${server.origin}${path}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain('text/html');
        expect(res.headers.get('cache-control')).toBe('no-cache');
        const html = await res.text();
        const pageUrl = `${server.origin}${path}`;
        const base = fhirBaseUrl(pageUrl, attribute(html, BASE_META));
        expect(base).toBe(`${server.base}/`);
        expect(new URL(attribute(html, NOSCRIPT_HREF), pageUrl).href).toBe(`${server.base}/metadata`);
        expect(attribute(html, STORAGE_META)).toBe('none');
        expect((await fetch(`${base}metadata`)).status).toBe(200);
      }
      // The other files are served as they are.
      expect(await (await fetch(`${server.origin}/app.js`)).text()).toBe('console.log(1);');
    } finally {
      await server.close();
    }
  });

  test('the base is relative to the page, so a proxy that mounts the server under a prefix keeps working', async () => {
    const server = await startServer({ webRoot: dir, fhirBase: '/api/fhir' });
    try {
      const html = await (await fetch(`${server.origin}/`)).text();
      expect(fhirBaseUrl('https://ehr.example/re/app', attribute(html, BASE_META))).toBe(
        'https://ehr.example/re/api/fhir/'
      );
    } finally {
      await server.close();
    }
  });

  test('with an upstream FHIR server the page is told that results are written there', async () => {
    const server = await startServer({ webRoot: dir, upstream: { url: 'http://127.0.0.1:9/fhir' } });
    try {
      const html = await (await fetch(`${server.origin}/app`)).text();
      expect(attribute(html, STORAGE_META)).toBe('upstream');
      expect(fhirBaseUrl(`${server.origin}/app`, attribute(html, BASE_META))).toBe(`${server.base}/`);
    } finally {
      await server.close();
    }
  });

  test('a base with characters that mean something in HTML is escaped in the page and in the placeholder, and still works', async () => {
    const fhirBase = "/api/fhir&'x";
    const server = await startServer({ webRoot: dir, fhirBase });
    const placeholder = await startServer({ fhirBase });
    try {
      const html = await (await fetch(`${server.origin}/`)).text();
      expect(html).toContain('<meta name="re-fhir-base" content="./api/fhir&#38;&#39;x/"');
      const base = fhirBaseUrl(`${server.origin}/`, attribute(html, BASE_META));
      expect(base).toBe(`${server.base}/`);
      expect((await fetch(`${base}metadata`)).status).toBe(200);
      const text = await (await fetch(`${placeholder.origin}/`)).text();
      expect(text).toContain('<a href="/api/fhir&#38;&#39;x/metadata">/api/fhir&#38;&#39;x</a>');
    } finally {
      await server.close();
      await placeholder.close();
    }
  });
});

describe('fillPage', () => {
  const page = readFileSync(join(__dirname, '../../src/web/index.html'), 'utf8');

  test('escapes the base for an HTML attribute: markup in it stays text', () => {
    const hostile = '/x"><script>alert(1)</script><a href=\'y';
    const html = fillPage(page, { fhirBase: hostile, storage: 'upstream' });
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain("href='y");
    expect(attribute(html, BASE_META)).toBe(`.${hostile}/`);
    expect(attribute(html, NOSCRIPT_HREF)).toBe(`.${hostile}/metadata`);
    expect(attribute(html, STORAGE_META)).toBe('upstream');
    // Everything else is the page as built.
    expect(
      html
        .replace(BASE_META, '')
        .replace(STORAGE_META, '')
        .replace(/<noscript>[^]*<\/noscript>/, '')
    ).toBe(
      page
        .replace(BASE_META, '')
        .replace(STORAGE_META, '')
        .replace(/<noscript>[^]*<\/noscript>/, '')
    );
  });

  test('a first path segment with a colon does not become a URL scheme', () => {
    const html = fillPage(page, { fhirBase: '/javascript:alert(1)', storage: 'none' });
    expect(fhirBaseUrl('http://h/', attribute(html, BASE_META))).toBe('http://h/javascript:alert(1)/');
  });

  test('leaves a page without the settings element as it is', () => {
    const other = '<!doctype html><title>x</title><noscript><a href="fhir/metadata">fhir/</a></noscript>';
    expect(fillPage(other, { fhirBase: '/api/fhir', storage: 'upstream' })).toBe(other);
  });
});
