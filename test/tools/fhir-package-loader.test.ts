import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CurrentBuildClient, RegistryClient } from 'fhir-package-loader';
import {
  BasePackageLoader,
  createSQLJSPackageDB,
  DiskBasedPackageCache,
  LoadStatus,
} from 'fhir-package-loader';
import * as tar from 'tar';
import { CONTENT } from '../../src/core/conformance/content';
import { buildFhirPackage } from '../../src/tools/build-fhir-package';

// The FHIR package as an independent loader reads it: fhir-package-loader (the one SUSHI uses), offline,
// from a FHIR package cache laid out as docs/fhir-package.md tells users to lay it out.

/**
 * A registry and current-build client that download nothing: the test never leaves this machine. An
 * exact version resolves to itself, as the registry would answer.
 */
const offline: RegistryClient & CurrentBuildClient = {
  download: () => Promise.reject(new Error('offline: no registry')),
  resolveVersion: (_name: string, version: string) => Promise.resolve(version),
  downloadCurrentBuild: () => Promise.reject(new Error('offline: no build server')),
  getCurrentBuildDate: () => Promise.reject(new Error('offline: no build server')),
};

let scratch: string;
let loader: BasePackageLoader;
const log: string[] = [];

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 're-fhir-fpl-'));
  const { file } = await buildFhirPackage({ outDir: path.join(scratch, 'out') });
  const cached = path.join(scratch, 'packages', 'org.refhir.re#0.1.0');
  fs.mkdirSync(cached, { recursive: true });
  await tar.x({ file, cwd: cached });
  loader = new BasePackageLoader(
    await createSQLJSPackageDB(),
    new DiskBasedPackageCache(path.join(scratch, 'packages')),
    offline,
    offline,
    { log: (level, message) => log.push(`${level}: ${message}`) }
  );
}, 120_000);

afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('org.refhir.re#0.1.0 through fhir-package-loader', () => {
  test('loads from the package cache, without the registry', async () => {
    await expect(loader.loadPackage('org.refhir.re', '0.1.0')).resolves.toBe(LoadStatus.LOADED);
    expect(log.filter((l) => l.startsWith('error'))).toEqual([]);
  });

  test('finds every shipped resource by its canonical, identical to the shipped JSON', () => {
    const missing: string[] = [];
    for (const resource of CONTENT) {
      const url = (resource as { url?: string }).url;
      if (!url) {
        continue;
      }
      const found = loader.findResourceJSON(url) as unknown;
      if (JSON.stringify(found) !== JSON.stringify(resource)) {
        missing.push(url);
      }
    }
    expect(missing).toEqual([]);
  });

  test('knows the package and its dependencies from its manifest', () => {
    const json = loader.findPackageJSON('org.refhir.re', '0.1.0') as {
      dependencies?: Record<string, string>;
    };
    expect(Object.keys(json.dependencies ?? {}).sort()).toEqual([
      'hl7.fhir.r4.core',
      'hl7.fhir.uv.cpg',
      'hl7.fhir.uv.crmi',
      'hl7.fhir.uv.extensions.r4',
      'hl7.fhir.uv.sdc',
    ]);
  });
});
