import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem } from '@medplum/fhirtypes';
import { indexCodeSystem } from '../../src/core/terminology/codesystem';
import type { FoundCoding } from './content-files';
import { REPO_ROOT } from './content-files';

/** One allowed external code (see the `about` text of the allow-list file). */
export interface ExternalCode {
  readonly system: string;
  readonly code: string;
  readonly display: string;
  readonly version?: string;
  readonly source: string;
}

/** The allow-list file `test/fixtures/terminology/external-codes.json`. */
export interface AllowList {
  readonly about: string;
  /** The pinned edition of each system that has editions; its codings must carry it as `version`. */
  readonly editions: Readonly<Record<string, string>>;
  readonly codes: readonly ExternalCode[];
}

/** Path of the allow-list from the repository root. */
export const ALLOW_LIST_PATH = 'test/fixtures/terminology/external-codes.json';

/** Reads the allow-list. */
export function loadAllowList(): AllowList {
  return JSON.parse(readFileSync(join(REPO_ROOT, ALLOW_LIST_PATH), 'utf8')) as AllowList;
}

/** A coding found in a file. */
export interface LocatedCoding extends FoundCoding {
  readonly file: string;
}

/**
 * Checks codings against the local CodeSystems and the allow-list and returns one message per
 * problem (empty when all is well):
 * - a code of a local CodeSystem must be defined there, with its exact display and (if given) version;
 * - any other code must be in the allow-list, with its exact display;
 * - a coding of a system with a pinned edition must carry exactly that edition as `version`, and a
 *   coding of any other external system must carry no version.
 * @param codings - the codings to check
 * @param local - the CodeSystems shipped in valuesets/
 * @param allow - the allow-list
 */
export function checkCodings(
  codings: readonly LocatedCoding[],
  local: readonly CodeSystem[],
  allow: AllowList
): string[] {
  const localByUrl = new Map(local.filter((cs) => cs.url !== undefined).map((cs) => [cs.url!, cs]));
  const allowed = new Map(allow.codes.map((c) => [`${c.system}|${c.code}`, c]));
  const problems: string[] = [];
  for (const c of codings) {
    const where = `${c.file} ${c.path}: ${c.system}#${c.code}`;
    const codeSystem = localByUrl.get(c.system);
    if (codeSystem) {
      const concept = indexCodeSystem(codeSystem).find(c.code)?.concept;
      if (!concept) {
        problems.push(`${where} is not defined in CodeSystem ${codeSystem.id}`);
        continue;
      }
      if (c.display !== undefined && c.display !== concept.display) {
        problems.push(
          `${where} has display "${c.display}"; CodeSystem ${codeSystem.id} says "${concept.display}"`
        );
      }
      if (c.version !== undefined && c.version !== codeSystem.version) {
        problems.push(
          `${where} has version "${c.version}"; CodeSystem ${codeSystem.id} is "${codeSystem.version}"`
        );
      }
      continue;
    }
    const entry = allowed.get(`${c.system}|${c.code}`);
    if (!entry) {
      problems.push(`${where} is neither in a local CodeSystem nor in ${ALLOW_LIST_PATH}`);
      continue;
    }
    if (c.display !== undefined && c.display !== entry.display) {
      problems.push(`${where} has display "${c.display}"; the allow-list says "${entry.display}"`);
    }
    const edition = allow.editions[c.system];
    if (edition !== undefined && c.version !== edition) {
      problems.push(`${where} must carry version "${edition}", not ${JSON.stringify(c.version ?? null)}`);
    }
    if (edition === undefined && c.version !== undefined) {
      problems.push(`${where} carries version "${c.version}", but ${c.system} has no pinned edition`);
    }
  }
  return problems;
}
