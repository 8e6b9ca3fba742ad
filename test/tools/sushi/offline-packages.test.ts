import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalPackageCache, OfflineRegistry } from '../../../src/tools/sushi/offline-packages';

let cacheDir: string;

function addPackage(name: string, version: string, files: Record<string, unknown>): void {
  const dir = path.join(cacheDir, `${name}#${version}`, 'package');
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, file), JSON.stringify(content));
  }
}

beforeAll(() => {
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 're-fhir-offline-'));
  addPackage('hl7.example', '1.9.0', { 'package.json': { name: 'hl7.example', version: '1.9.0' } });
  addPackage('hl7.example', '1.10.0', {
    'package.json': { name: 'hl7.example', version: '1.10.0' },
    '.index.json': { 'index-version': 2, files: [] },
    'ValueSet-b.json': { resourceType: 'ValueSet', id: 'b' },
    'CodeSystem-a.json': { resourceType: 'CodeSystem', id: 'a' },
  });
  fs.writeFileSync(path.join(cacheDir, 'hl7.example#1.10.0', 'package', 'notes.txt'), 'not json');
  addPackage('hl7.stub', '0.0.0-stub', { 'package.json': { name: 'hl7.stub', version: '0.0.0-stub' } });
});

afterAll(() => {
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

describe('OfflineRegistry', () => {
  test('resolves latest to the highest cached version, comparing numbers as numbers', async () => {
    const registry = new OfflineRegistry(cacheDir);
    await expect(registry.resolveVersion('hl7.example', 'latest')).resolves.toBe('1.10.0');
    await expect(registry.resolveVersion('hl7.stub', 'latest')).resolves.toBe('0.0.0-stub');
  });

  test('passes a concrete version through untouched', async () => {
    await expect(new OfflineRegistry(cacheDir).resolveVersion('hl7.absent', '4.0.1')).resolves.toBe('4.0.1');
  });

  test('rejects latest for a package with no cached version, and every download', async () => {
    const registry = new OfflineRegistry(cacheDir);
    await expect(registry.resolveVersion('hl7.absent', 'latest')).rejects.toThrow(
      `offline: no cached version of hl7.absent in ${cacheDir}`
    );
    await expect(registry.download('hl7.absent', '1.0.0')).rejects.toThrow(
      `offline: hl7.absent#1.0.0 is not in ${cacheDir}`
    );
  });
});

describe('LocalPackageCache', () => {
  const cache = (): LocalPackageCache => new LocalPackageCache(cacheDir);

  test('finds cached packages and their package.json', () => {
    expect(cache().isPackageInCache('hl7.example', '1.10.0')).toBe(true);
    expect(cache().isPackageInCache('hl7.example', '2.0.0')).toBe(false);
    expect(cache().getPackagePath('hl7.example', '1.10.0')).toBe(path.join(cacheDir, 'hl7.example#1.10.0'));
    expect(cache().getPackagePath('hl7.example', '2.0.0')).toBeUndefined();
    expect(cache().getPackageJSONPath('hl7.example', '1.9.0')).toBe(
      path.join(cacheDir, 'hl7.example#1.9.0', 'package', 'package.json')
    );
  });

  test('offers the visible JSON files of package/ as resources, sorted, and reads them', () => {
    const dir = path.join(cacheDir, 'hl7.example#1.10.0', 'package');
    const files = cache().getPotentialResourcePaths('hl7.example', '1.10.0');
    expect(files).toEqual(
      ['CodeSystem-a.json', 'ValueSet-b.json', 'package.json'].map((f) => path.join(dir, f))
    );
    expect(cache().getResourceAtPath(files[0] ?? '')).toEqual({ resourceType: 'CodeSystem', id: 'a' });
    expect(cache().getPotentialResourcePaths('hl7.absent', '1.0.0')).toEqual([]);
  });

  test('never caches a download', async () => {
    await expect(cache().cachePackageTarball('hl7.x', '1.0.0')).rejects.toThrow(
      'offline: will not cache a download of hl7.x#1.0.0'
    );
    expect(fs.existsSync(path.join(cacheDir, 'hl7.x#1.0.0'))).toBe(false);
  });
});
