import path from 'node:path';

/** Root of the repository (this file lives in `src/tools/`). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Project-local stand-in for `$HOME` used by the FHIR tooling: the package cache lives in
 * `<FHIR_HOME>/.fhir/packages`, the layout SUSHI and fhir-package-loader expect under a home
 * directory, so `HOME=.fhir-cache npx sushi ...` also finds it. Gitignored.
 */
export const FHIR_HOME = path.join(REPO_ROOT, '.fhir-cache');

/** The FHIR package cache directory inside {@link FHIR_HOME}. */
export function fhirPackageCacheDir(fhirHome: string = FHIR_HOME): string {
  return path.join(fhirHome, '.fhir', 'packages');
}

/** SUSHI project of the profiles and extensions. */
export const FSH_PROJECT_DIR = path.join(REPO_ROOT, 'profiles', 'fsh');

/** Where the generated StructureDefinitions are committed. */
export const PROFILES_DIR = path.join(REPO_ROOT, 'profiles');

/** Terminology resources (written by the terminology work). */
export const VALUESETS_DIR = path.join(REPO_ROOT, 'valuesets');

/** Example instances, packaged under `package/example/`. */
export const EXAMPLES_DIR = path.join(PROFILES_DIR, 'examples');
