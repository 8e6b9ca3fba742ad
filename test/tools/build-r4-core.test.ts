import type { StructureDefinition } from '@medplum/fhirtypes';
import { utils } from 'fsh-sushi';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureR4Core, R4_CORE, STUB_PACKAGES, STUB_VERSION } from '../../src/tools/build-r4-core';

let cacheDir: string;
beforeAll(() => {
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 're-fhir-r4core-'));
});
afterAll(() => {
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

function readJsonFile<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

describe('ensureR4Core', () => {
  test('builds the core package in FHIR cache layout, then reuses it until forced', () => {
    const first = ensureR4Core({ cacheDir });
    const packageDir = path.join(cacheDir, 'hl7.fhir.r4.core#4.0.1', 'package');
    expect(first).toMatchObject({ built: true, packageDir });
    expect(first.resourceCount).toBeGreaterThan(4000);

    const again = ensureR4Core({ cacheDir });
    expect(again).toEqual({ built: false, packageDir, resourceCount: first.resourceCount });

    expect(ensureR4Core({ cacheDir, force: true })).toMatchObject({
      built: true,
      resourceCount: first.resourceCount,
    });
    expect(fs.readdirSync(cacheDir).filter((d) => d.includes('partial'))).toEqual([]);
  });

  test('writes a package.json and an .index.json that lists every resource file', () => {
    const packageDir = path.join(cacheDir, `${R4_CORE.name}#${R4_CORE.version}`, 'package');
    expect(readJsonFile(path.join(packageDir, 'package.json'))).toMatchObject({
      name: 'hl7.fhir.r4.core',
      version: '4.0.1',
      fhirVersions: ['4.0.1'],
      type: 'Core',
      canonical: 'http://hl7.org/fhir',
    });
    const index = readJsonFile<{ 'index-version': number; files: { filename: string }[] }>(
      path.join(packageDir, '.index.json')
    );
    const files = fs.readdirSync(packageDir).filter((f) => /^[^.].*\.json$/.test(f) && f !== 'package.json');
    expect(index.files.map((f) => f.filename).sort()).toEqual(files.sort());
    expect(files).toEqual(
      expect.arrayContaining(['StructureDefinition-Condition.json', 'ValueSet-condition-clinical.json'])
    );
  });

  test('writes R4 definitions without Medplum additions', () => {
    const packageDir = path.join(cacheDir, `${R4_CORE.name}#${R4_CORE.version}`, 'package');
    const meta = readJsonFile<StructureDefinition>(path.join(packageDir, 'StructureDefinition-Meta.json'));
    expect(meta.snapshot?.element.map((e) => e.path)).toEqual([
      'Meta',
      'Meta.id',
      'Meta.extension',
      'Meta.versionId',
      'Meta.lastUpdated',
      'Meta.source',
      'Meta.profile',
      'Meta.security',
      'Meta.tag',
    ]);
    expect(fs.existsSync(path.join(packageDir, 'StructureDefinition-SubscriptionStatus.json'))).toBe(false);
  });

  test('writes an empty stub for each package SUSHI loads on its own for R4', () => {
    const automatic = utils.AUTOMATIC_DEPENDENCIES.filter((d) => d.fhirVersions?.includes('R4')).map(
      (d) => d.packageId
    );
    expect([...STUB_PACKAGES].sort()).toEqual(automatic.sort());
    for (const name of STUB_PACKAGES) {
      const dir = path.join(cacheDir, `${name}#${STUB_VERSION}`, 'package');
      expect(readJsonFile(path.join(dir, 'package.json'))).toMatchObject({
        name,
        version: STUB_VERSION,
        fhirVersions: ['4.0.1'],
      });
      expect(readJsonFile(path.join(dir, '.index.json'))).toEqual({ 'index-version': 2, files: [] });
      expect(fs.readdirSync(dir).sort()).toEqual(['.index.json', 'package.json']);
    }
  });
});
