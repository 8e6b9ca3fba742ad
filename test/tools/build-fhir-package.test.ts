import type { ImplementationGuide, Resource } from '@medplum/fhirtypes';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import {
  buildFhirPackage,
  collectPackageSources,
  PACKAGE_FILE_NAME,
} from '../../src/tools/build-fhir-package';
import { REPO_ROOT } from '../../src/tools/paths';

const INDEX_FIELDS = ['url', 'version', 'kind', 'type', 'supplements', 'content'] as const;

let scratch: string;
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 're-fhir-package-test-'));
});
afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
});

function readJsonFile<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

function writeJsonFile(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/** Builds the package of `root` and extracts it; returns the extracted `package/` folder. */
async function buildAndExtract(root: string, name: string): Promise<string> {
  const outDir = path.join(scratch, name, 'out');
  const { file } = await buildFhirPackage({ root, outDir });
  expect(file).toBe(path.join(outDir, PACKAGE_FILE_NAME));
  const target = path.join(scratch, name, 'extracted');
  fs.mkdirSync(target, { recursive: true });
  await tar.x({ file, cwd: target });
  expect(fs.readdirSync(target)).toEqual(['package']);
  return path.join(target, 'package');
}

function resourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name !== 'package.json' && e.name !== '.index.json')
    .map((e) => e.name)
    .sort();
}

/** Checks one folder's `.index.json` against the files it sits with, field by field. */
function expectIndexMatchesFolder(dir: string): void {
  const index = readJsonFile<{ 'index-version': number; files: Record<string, unknown>[] }>(
    path.join(dir, '.index.json')
  );
  expect(index['index-version']).toBe(2);
  expect(index.files.map((f) => f.filename).sort()).toEqual(resourceFiles(dir));
  for (const entry of index.files) {
    const resource = readJsonFile<Record<string, unknown>>(path.join(dir, String(entry.filename)));
    const expected: Record<string, unknown> = {
      filename: entry.filename,
      resourceType: resource.resourceType,
      id: resource.id,
    };
    for (const field of INDEX_FIELDS) {
      if (typeof resource[field] === 'string') {
        expected[field] = resource[field];
      }
    }
    expect(entry).toEqual(expected);
  }
}

function expectGuideListsEverything(packageDir: string): ImplementationGuide {
  const guide = readJsonFile<ImplementationGuide>(
    path.join(packageDir, 'ImplementationGuide-org.refhir.re.json')
  );
  const referenceOf = (dir: string, name: string): string => {
    const r = readJsonFile<Resource>(path.join(dir, name));
    return `${r.resourceType}/${r.id}`;
  };
  const definitions = resourceFiles(packageDir)
    .filter((n) => n !== 'ImplementationGuide-org.refhir.re.json')
    .map((n) => referenceOf(packageDir, n));
  const exampleDir = path.join(packageDir, 'example');
  const examples = resourceFiles(exampleDir).map((n) => referenceOf(exampleDir, n));
  const listed = guide.definition?.resource ?? [];
  expect(listed.map((r) => r.reference?.reference).sort()).toEqual([...definitions, ...examples].sort());
  for (const entry of listed) {
    const isExample = examples.includes(entry.reference?.reference ?? '');
    expect(entry.exampleBoolean === true || entry.exampleCanonical !== undefined).toBe(isExample);
  }
  return guide;
}

describe('buildFhirPackage on this repository', () => {
  let packageDir: string;
  beforeAll(async () => {
    packageDir = await buildAndExtract(REPO_ROOT, 'repo');
  });

  test('packages every resource of profiles/ and valuesets/, unchanged, and no FSH source', () => {
    const sources = collectPackageSources(REPO_ROOT);
    expect(sources.definitions.map((f) => f.filename)).toEqual(
      expect.arrayContaining(['StructureDefinition-re-condition.json', 'StructureDefinition-re-rule.json'])
    );
    expect(resourceFiles(packageDir)).toEqual(
      [...sources.definitions.map((f) => f.filename), 'ImplementationGuide-org.refhir.re.json'].sort()
    );
    for (const { filename, resource } of sources.definitions) {
      expect(readJsonFile(path.join(packageDir, filename))).toEqual(resource);
    }
    expect(resourceFiles(packageDir).filter((n) => !/^[A-Za-z]+-[A-Za-z0-9.-]+\.json$/.test(n))).toEqual([]);
  });

  test('has an .index.json that lists exactly the files of package/ and package/example/', () => {
    expectIndexMatchesFolder(packageDir);
    expectIndexMatchesFolder(path.join(packageDir, 'example'));
  });

  test('has the package manifest with FHIR version, canonical and pinned dependencies', () => {
    const manifest = readJsonFile<Record<string, unknown>>(path.join(packageDir, 'package.json'));
    expect(manifest).toMatchObject({
      name: 'org.refhir.re',
      version: '0.1.0',
      fhirVersions: ['4.0.1'],
      canonical: 'http://re-fhir.org/fhir',
      url: 'http://re-fhir.org/fhir',
      type: 'fhir.ig',
      license: 'Apache-2.0',
      author: 're-fhir',
      jurisdiction: 'http://unstats.un.org/unsd/methods/m49/m49.htm#001',
      dependencies: {
        'hl7.fhir.r4.core': '4.0.1',
        'hl7.fhir.uv.sdc': '4.0.0',
        'hl7.fhir.uv.cpg': '2.0.0',
        'hl7.fhir.uv.crmi': '1.0.0',
        'hl7.fhir.uv.extensions.r4': '5.2.0',
      },
    });
    expect(typeof manifest.description).toBe('string');
  });

  test('has an ImplementationGuide that lists every packaged resource, with the package version', () => {
    const guide = expectGuideListsEverything(packageDir);
    expect(guide.url).toBe('http://re-fhir.org/fhir/ImplementationGuide/org.refhir.re');
    expect(guide.version).toBe('0.1.0');
    expect(guide.packageId).toBe('org.refhir.re');
  });

  test('produces the same bytes when built twice', async () => {
    const first = await buildFhirPackage({ outDir: path.join(scratch, 'twice-1') });
    const second = await buildFhirPackage({ outDir: path.join(scratch, 'twice-2') });
    expect(fs.readFileSync(second.file)).toEqual(fs.readFileSync(first.file));
  });
});

describe('buildFhirPackage on content added later', () => {
  const root = (): string => path.join(scratch, 'fixture');
  let packageDir: string;

  beforeAll(async () => {
    const base = root();
    writeJsonFile(
      path.join(base, 'profiles', 'StructureDefinition-re-condition.json'),
      readJsonFile(path.join(REPO_ROOT, 'profiles', 'StructureDefinition-re-condition.json'))
    );
    writeJsonFile(path.join(base, 'profiles', 'fsh', 'fsh-generated', 'StructureDefinition-ignored.json'), {
      resourceType: 'StructureDefinition',
      id: 'ignored',
    });
    writeJsonFile(path.join(base, 'profiles', 'plandefinitions', 'PlanDefinition-re-evaluation.json'), {
      resourceType: 'PlanDefinition',
      id: 're-evaluation',
      url: 'http://re-fhir.org/fhir/PlanDefinition/re-evaluation',
      version: '0.1.0',
      status: 'active',
      type: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/plan-definition-type', code: 'eca-rule' }],
      },
    });
    writeJsonFile(path.join(base, 'valuesets', 'CodeSystem-re-answer.json'), {
      resourceType: 'CodeSystem',
      id: 're-answer',
      url: 'http://re-fhir.org/fhir/CodeSystem/re-answer',
      version: '0.1.0',
      status: 'active',
      content: 'complete',
    });
    writeJsonFile(path.join(base, 'valuesets', 'CodeSystem-re-answer-de.json'), {
      resourceType: 'CodeSystem',
      id: 're-answer-de',
      url: 'http://re-fhir.org/fhir/CodeSystem/re-answer-de',
      status: 'active',
      content: 'supplement',
      supplements: 'http://re-fhir.org/fhir/CodeSystem/re-answer',
    });
    writeJsonFile(path.join(base, 'profiles', 'examples', 'Condition-example-re.json'), {
      resourceType: 'Condition',
      id: 'example-re',
      meta: { profile: ['http://re-fhir.org/fhir/StructureDefinition/re-condition'] },
      subject: { reference: 'Patient/example' },
    });
    writeJsonFile(
      path.join(base, 'profiles', 'examples', 'scenarios', 'QuestionnaireResponse-example.json'),
      {
        resourceType: 'QuestionnaireResponse',
        id: 'example',
        status: 'completed',
      }
    );
    packageDir = await buildAndExtract(base, 'fixture-build');
  });

  test('takes definitions from sub-folders and leaves out profiles/fsh', () => {
    expect(resourceFiles(packageDir)).toEqual([
      'CodeSystem-re-answer-de.json',
      'CodeSystem-re-answer.json',
      'ImplementationGuide-org.refhir.re.json',
      'PlanDefinition-re-evaluation.json',
      'StructureDefinition-re-condition.json',
    ]);
  });

  test('indexes CodeSystem content and supplements, and leaves out a non-string PlanDefinition.type', () => {
    expectIndexMatchesFolder(packageDir);
    const index = readJsonFile<{ files: Record<string, unknown>[] }>(path.join(packageDir, '.index.json'));
    expect(index.files.find((f) => f.id === 're-answer-de')).toMatchObject({
      content: 'supplement',
      supplements: 'http://re-fhir.org/fhir/CodeSystem/re-answer',
    });
    expect(index.files.find((f) => f.id === 're-evaluation')).not.toHaveProperty('type');
  });

  test('puts the examples, also from sub-folders, in package/example/ with their own index', () => {
    expect(resourceFiles(path.join(packageDir, 'example'))).toEqual([
      'Condition-example-re.json',
      'QuestionnaireResponse-example.json',
    ]);
    expectIndexMatchesFolder(path.join(packageDir, 'example'));
  });

  test('marks examples in the guide with the package profile they claim, or as plain examples', () => {
    const guide = expectGuideListsEverything(packageDir);
    const byReference = new Map((guide.definition?.resource ?? []).map((r) => [r.reference?.reference, r]));
    expect(byReference.get('Condition/example-re')?.exampleCanonical).toBe(
      'http://re-fhir.org/fhir/StructureDefinition/re-condition'
    );
    expect(byReference.get('QuestionnaireResponse/example')?.exampleBoolean).toBe(true);
    expect(byReference.get('CodeSystem/re-answer')?.exampleBoolean).toBe(false);
  });

  test('refuses a JSON file that is not a FHIR resource, naming it', async () => {
    const base = path.join(scratch, 'bad');
    writeJsonFile(path.join(base, 'valuesets', 'notes.json'), { hello: 'world' });
    await expect(buildFhirPackage({ root: base, outDir: path.join(base, 'out') })).rejects.toThrow(
      `${path.join('valuesets', 'notes.json')}: not a FHIR resource (no resourceType)`
    );
  });
});
