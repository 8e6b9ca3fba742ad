import type { Dirent } from 'node:fs';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';

/** Absolute path of the repository root. */
export const REPO_ROOT = join(__dirname, '..', '..');

/** A shipped JSON file and its parsed resource. */
export interface ContentFile {
  /** Path from the repository root, with forward slashes (e.g. `valuesets/ValueSet-re-rule.json`). */
  readonly path: string;
  /** The exact file text. */
  readonly text: string;
  readonly resource: Resource;
}

/**
 * Every JSON file under `profiles/` (including `profiles/examples/`, excluding the FSH sources in
 * `profiles/fsh/`) and `valuesets/`, sorted by path. Missing folders are simply empty.
 */
export function listContentPaths(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      const rel = relative(REPO_ROOT, full).split(sep).join('/');
      if (entry.isDirectory() && rel !== 'profiles/fsh') {
        walk(full);
      } else if (entry.isFile() && entry.name.endsWith('.json')) {
        found.push(rel);
      }
    }
  };
  walk(join(REPO_ROOT, 'profiles'));
  walk(join(REPO_ROOT, 'valuesets'));
  return found.sort();
}

/** Reads and parses every file of {@link listContentPaths}. */
export function loadContentFiles(): ContentFile[] {
  return listContentPaths().map((path) => {
    const text = readFileSync(join(REPO_ROOT, path), 'utf8');
    return { path, text, resource: JSON.parse(text) as Resource };
  });
}

/** A `{system, code}` pair found in a resource, with where it was found. */
export interface FoundCoding {
  readonly system: string;
  readonly code: string;
  readonly display?: string;
  readonly version?: string;
  /** FHIRPath-like location, e.g. `ValueSet.compose.include[0].concept[3]`. */
  readonly path: string;
}

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: Json): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function found(
  system: string | undefined,
  code: string | undefined,
  display: string | undefined,
  version: string | undefined,
  path: string
): FoundCoding[] {
  if (system === undefined || code === undefined) {
    return [];
  }
  return [
    {
      system,
      code,
      ...(display === undefined ? {} : { display }),
      ...(version === undefined ? {} : { version }),
      path,
    },
  ];
}

/**
 * Finds every coded value in a resource:
 * - any object with a string `system` and a string `code` (Coding, the codings of a
 *   CodeableConcept, Questionnaire answerOption/initial/enableWhen codings, Quantity, expansion
 *   `contains`, extension values, codings in contained resources and in StructureDefinition
 *   patterns), with its `display` and `version`;
 * - ValueSet `compose.include`/`exclude` concepts, which take `system` and `version` from their include;
 * - ConceptMap `group.element` codes (source system and version) and `target` codes (target system
 *   and version), and `dependsOn`/`product` values that name a system.
 * CodeSystem `concept` entries define codes rather than use them and are not returned (their
 * property codings are).
 * @param resource - any FHIR JSON
 */
export function findCodings(resource: Json): FoundCoding[] {
  const root = isObject(resource) ? (str(resource.resourceType) ?? 'Resource') : 'Resource';
  return walk(resource, root);
}

function walk(node: Json, path: string): FoundCoding[] {
  if (Array.isArray(node)) {
    return node.flatMap((item, i) => walk(item, `${path}[${i}]`));
  }
  if (!isObject(node)) {
    return [];
  }
  const result: FoundCoding[] = [];
  const type = str(node.resourceType);
  result.push(...found(str(node.system), str(node.code), str(node.display), str(node.version), path));

  if (type === 'ValueSet' && isObject(node.compose)) {
    for (const part of ['include', 'exclude'] as const) {
      const sets = node.compose[part];
      if (!Array.isArray(sets)) {
        continue;
      }
      sets.forEach((set, i) => {
        if (!isObject(set) || !Array.isArray(set.concept)) {
          return;
        }
        set.concept.forEach((concept, j) => {
          if (isObject(concept)) {
            result.push(
              ...found(
                str(set.system),
                str(concept.code),
                str(concept.display),
                str(set.version),
                `${path}.compose.${part}[${i}].concept[${j}]`
              )
            );
          }
        });
      });
    }
  }
  if (type === 'ConceptMap' && Array.isArray(node.group)) {
    node.group.forEach((group, i) => {
      if (!isObject(group) || !Array.isArray(group.element)) {
        return;
      }
      group.element.forEach((element, j) => {
        if (!isObject(element)) {
          return;
        }
        const at = `${path}.group[${i}].element[${j}]`;
        result.push(
          ...found(str(group.source), str(element.code), str(element.display), str(group.sourceVersion), at)
        );
        if (!Array.isArray(element.target)) {
          return;
        }
        element.target.forEach((target, k) => {
          if (!isObject(target)) {
            return;
          }
          result.push(
            ...found(
              str(group.target),
              str(target.code),
              str(target.display),
              str(group.targetVersion),
              `${at}.target[${k}]`
            )
          );
          for (const link of ['dependsOn', 'product'] as const) {
            const list = target[link];
            if (Array.isArray(list)) {
              list.forEach((d, m) => {
                if (isObject(d)) {
                  result.push(
                    ...found(
                      str(d.system),
                      str(d.value),
                      str(d.display),
                      undefined,
                      `${at}.target[${k}].${link}[${m}]`
                    )
                  );
                }
              });
            }
          }
        });
      });
    });
  }

  for (const [key, value] of Object.entries(node)) {
    if (key === 'text' && type !== undefined) {
      continue; // narrative XHTML
    }
    if (typeof value === 'object' && value !== null) {
      result.push(...walk(value, `${path}.${key}`));
    }
  }
  return result;
}
