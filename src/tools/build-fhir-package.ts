/**
 * Builds the FHIR NPM package `dist/fhir-package/org.refhir.re-<version>.tgz` from the
 * resources in profiles/ and valuesets/ (definitions) and profiles/examples/ (examples).
 * The layout and the generated files come from fhir-package/package-files.ts.
 *
 * Usage: npx tsx src/tools/build-fhir-package.ts   (npm run fhir-package)
 */
import type { Resource } from '@medplum/fhirtypes';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import type { PackagedFile } from './fhir-package/index-file';
import { compareStrings } from './fhir-package/index-file';
import { PUBLICATION } from './fhir-package/manifest';
import { packageFiles } from './fhir-package/package-files';
import { REPO_ROOT } from './paths';

/** Fixed timestamp of every tar entry, so the same content gives the same tarball. */
const ENTRY_MTIME = new Date(`${PUBLICATION.date}T00:00:00Z`);

/** Where the package sources live, relative to the repository root. */
export const PACKAGE_SOURCES = {
  definitions: ['profiles', 'valuesets'],
  /** Folders under `profiles/` that are not definitions: the FSH sources and the examples. */
  excluded: ['profiles/fsh', 'profiles/examples'],
  examples: 'profiles/examples',
} as const;

function jsonFilesUnder(dir: string, excluded: ReadonlySet<string>): string[] {
  if (!fs.existsSync(dir) || excluded.has(path.resolve(dir))) {
    return [];
  }
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        return jsonFilesUnder(full, excluded);
      }
      return entry.isFile() && entry.name.endsWith('.json') ? [full] : [];
    })
    .sort(compareStrings);
}

function readResource(file: string, root: string): Resource {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${path.relative(root, file)}: not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as Resource).resourceType !== 'string'
  ) {
    throw new Error(`${path.relative(root, file)}: not a FHIR resource (no resourceType)`);
  }
  return parsed as Resource;
}

/**
 * Reads every resource file of the package sources. Sub-folders are searched too, so content
 * may be grouped (e.g. `profiles/plandefinitions/`); inside the package all files sit flat.
 *
 * @param root - the repository root.
 * @returns definitions and examples, each with the file name it gets in the package.
 */
export function collectPackageSources(root: string): {
  definitions: PackagedFile[];
  examples: PackagedFile[];
} {
  const excluded = new Set(PACKAGE_SOURCES.excluded.map((d) => path.resolve(root, d)));
  const load = (file: string): PackagedFile => ({
    filename: path.basename(file),
    resource: readResource(file, root),
  });
  return {
    definitions: PACKAGE_SOURCES.definitions
      .flatMap((d) => jsonFilesUnder(path.join(root, d), excluded))
      .map(load),
    examples: jsonFilesUnder(path.join(root, PACKAGE_SOURCES.examples), new Set()).map(load),
  };
}

/** The tarball's file name: `<packageId>-<version>.tgz`. */
export const PACKAGE_FILE_NAME = `${PUBLICATION.packageId}-${PUBLICATION.version}.tgz`;

/**
 * Builds the package tarball.
 *
 * @param options - `root`: repository root (default this repository); `outDir`: where the
 *   tarball goes (default `<root>/dist/fhir-package`).
 * @returns the tarball path and the packaged paths.
 */
export async function buildFhirPackage(
  options: { root?: string; outDir?: string } = {}
): Promise<{ file: string; paths: string[] }> {
  const root = options.root ?? REPO_ROOT;
  const outDir = options.outDir ?? path.join(root, 'dist', 'fhir-package');
  const files = packageFiles(collectPackageSources(root));

  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 're-fhir-package-'));
  try {
    for (const file of files) {
      const target = path.join(staging, file.path);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, file.content);
    }
    fs.mkdirSync(outDir, { recursive: true });
    const tarball = path.join(outDir, PACKAGE_FILE_NAME);
    await tar.c(
      { gzip: true, file: tarball, cwd: staging, portable: true, mtime: ENTRY_MTIME },
      files.map((f) => f.path)
    );
    return { file: tarball, paths: files.map((f) => f.path) };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const started = process.hrtime.bigint();
  buildFhirPackage().then(
    ({ file, paths }) => {
      const seconds = (Number(process.hrtime.bigint() - started) / 1e9).toFixed(2);
      console.log(`Wrote ${path.relative(process.cwd(), file)}: ${paths.length} files [${seconds} s]`);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    }
  );
}
