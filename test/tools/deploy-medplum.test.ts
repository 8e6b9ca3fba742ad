import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { contentUploads } from '../../src/bot/upload-content';
import { REPO_ROOT } from '../../src/tools/paths';

const SLOW = 120_000;
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const TOOL = path.join(REPO_ROOT, 'src', 'tools', 'deploy-medplum.ts');

let server: http.Server;
let baseUrl: string;
let requests: string[];
let scratch: string;

/** A real HTTP server standing where Medplum would be: it records every request it gets. */
beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 're-fhir-deploy-test-'));
}, SLOW);

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(scratch, { recursive: true, force: true });
});

beforeEach(() => {
  requests = [];
});

function tool(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      [TOOL, ...args],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          MEDPLUM_BASE_URL: baseUrl,
          MEDPLUM_CLIENT_ID: 'client',
          MEDPLUM_CLIENT_SECRET: 'not-a-secret',
        },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })
    );
  });
}

describe('npm run deploy -- --dry-run', () => {
  test(
    'builds the bundle, prints every write it would make, and sends nothing',
    async () => {
      const bundle = path.join(scratch, 're-fhir-bot.cjs');
      const { code, stdout, stderr } = await tool(['all', '--dry-run', `--bundle=${bundle}`]);

      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(requests).toEqual([]);
      expect(fs.statSync(bundle).size).toBeGreaterThan(0);
      expect(stdout).toContain(`Dry run: nothing is sent. It would write to ${baseUrl}:`);
      for (const { resource, url, version } of contentUploads()) {
        expect(stdout).toContain(`  PUT ${resource.resourceType}?url=${url}&version=${version}\n`);
      }
      expect(stdout).toMatch(/POST Bot\/\{id\}\/\$deploy: re-fhir-bot\.cjs, a JSON body of \d+ bytes/);
      expect(stdout.match(/Subscription/g)).toHaveLength(2);
    },
    SLOW
  );

  test(
    'the same server does see a real run (so the dry run is what kept it quiet)',
    async () => {
      const { code, stderr } = await tool(['content']);
      expect(code).not.toBe(0);
      expect(stderr).not.toBe('');
      expect(requests.length).toBeGreaterThan(0);
    },
    SLOW
  );
});
