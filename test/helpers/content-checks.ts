import { isDeepStrictEqual } from 'node:util';
import type { CodeSystem, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { CANONICAL_BASE } from '../../src/core/constants';
import { createEnumeratedMembership, firstKnown } from '../../src/core/validation/enumerated-valuesets';
import { createValidator } from '../../src/core/validation/validator';
import type { ContentFile } from './content';
import { contentFiles } from './content';
import { r4Definitions, r4Membership, r4Schema } from './validation';

/** One problem found in a content file. */
export interface Finding {
  readonly path: string;
  readonly check:
    'json-format' | 'file-name' | 'duplicate-id' | 'duplicate-url' | 'metadata' | 'registered' | 'validation';
  readonly message: string;
}

const CANONICAL_TYPES = new Set([
  'OperationDefinition',
  'StructureDefinition',
  'ValueSet',
  'CodeSystem',
  'ConceptMap',
  'Questionnaire',
  'PlanDefinition',
  'ActivityDefinition',
  'Library',
]);
const METADATA = [
  'url',
  'version',
  'name',
  'title',
  'status',
  'experimental',
  'date',
  'publisher',
  'description',
] as const;

/**
 * Runs every content check over the content folders of `root` and returns the findings
 * (empty when all is well).
 * @param root - Folder with `profiles/` and `valuesets/`.
 * @param registered - The resources registered for shipping (`CONTENT`); examples are not registered.
 */
export function checkContent(root: string, registered: readonly Resource[]): Finding[] {
  const files = contentFiles(root);
  const findings: Finding[] = [];
  const resources = files.map((f) => f.resource);
  const profiles = resources.filter(
    (r): r is StructureDefinition =>
      r.resourceType === 'StructureDefinition' && (r as StructureDefinition).derivation === 'constraint'
  );
  const terminology = new Map<string, ValueSet | CodeSystem>();
  for (const r of resources) {
    if ((r.resourceType === 'ValueSet' || r.resourceType === 'CodeSystem') && r.url) {
      terminology.set(r.url, r);
    }
  }
  const validator = createValidator({
    definitions: r4Definitions(),
    schema: r4Schema(),
    profiles,
    memberOf: firstKnown(
      createEnumeratedMembership((url) => terminology.get(url)),
      r4Membership()
    ),
  });
  const ids = new Map<string, string>();
  const urls = new Map<string, string>();

  for (const file of files) {
    const add = (check: Finding['check'], message: string): void => {
      findings.push({ path: file.path, check, message });
    };
    const r = file.resource;
    if (file.text !== JSON.stringify(r, null, 2) + '\n') {
      add('json-format', 'not formatted as JSON.stringify(resource, null, 2) + "\\n"');
    }
    const expectedName = `${r.resourceType}-${r.id}.json`;
    if (!file.path.endsWith('/' + expectedName)) {
      add('file-name', `expected file name ${expectedName}`);
    }
    const idKey = `${r.resourceType}/${r.id}`;
    if (ids.has(idKey)) {
      add('duplicate-id', `${idKey} also in ${ids.get(idKey)}`);
    }
    ids.set(idKey, file.path);
    const url = (r as { url?: string }).url;
    if (url !== undefined) {
      if (urls.has(url)) {
        add('duplicate-url', `${url} also in ${urls.get(url)}`);
      }
      urls.set(url, file.path);
    }
    if (CANONICAL_TYPES.has(r.resourceType)) {
      const missing = METADATA.filter((k) => (r as unknown as Record<string, unknown>)[k] === undefined);
      if (missing.length > 0) {
        add('metadata', `missing ${missing.join(', ')}`);
      }
    }
    if (!isExample(file) && !registered.some((x) => isDeepStrictEqual(x, r))) {
      add('registered', `not registered (or not identical) in src/core/conformance/content.ts`);
    }
    for (const message of validate(validator, r, profiles)) {
      add('validation', message);
    }
  }
  return findings;
}

function isExample(file: ContentFile): boolean {
  return file.path.startsWith('profiles/examples/');
}

function validate(
  validator: ReturnType<typeof createValidator>,
  resource: Resource,
  profiles: readonly StructureDefinition[]
): string[] {
  const messages: string[] = [];
  const targets: (string | undefined)[] = [undefined];
  for (const p of resource.meta?.profile ?? []) {
    if (p.startsWith(CANONICAL_BASE + '/') && profiles.some((sd) => sd.url === p.split('|')[0])) {
      targets.push(p);
    }
  }
  for (const profile of targets) {
    const result = validator.validate(resource, profile ? { profile } : {});
    for (const i of result.issues.filter((x) => x.severity === 'error' || x.severity === 'fatal')) {
      messages.push(`${profile ?? 'base R4'}: ${i.details?.text} @ ${(i.expression ?? []).join(', ')}`);
    }
  }
  return messages;
}
