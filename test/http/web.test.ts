import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
