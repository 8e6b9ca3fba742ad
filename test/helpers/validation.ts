import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';
import { createEnumeratedMembership } from '../../src/core/validation/enumerated-valuesets';
import type { DefinitionProvider } from '../../src/core/validation/definitions';
import type { FhirJsonSchema } from '../../src/core/validation/schema';
import type { TerminologyLookup } from '../../src/core/validation/enumerated-valuesets';
import type { MemberOf } from '../../src/core/validation/types';
import { loadR4Definitions, loadR4Schema, loadR4Terminology } from '../../src/node/definitions';

let definitions: DefinitionProvider | undefined;
let schema: FhirJsonSchema | undefined;
let terminology: TerminologyLookup | undefined;
let coreMembership: MemberOf | undefined;

/** Base R4 definitions, loaded once per test file. */
export function r4Definitions(): DefinitionProvider {
  definitions ??= loadR4Definitions();
  return definitions;
}

/** The official R4 JSON schema, loaded once per test file. */
export function r4Schema(): FhirJsonSchema {
  schema ??= loadR4Schema();
  return schema;
}

/** Membership over the core R4 ValueSets. */
export function r4Membership(): MemberOf {
  terminology ??= loadR4Terminology();
  coreMembership ??= createEnumeratedMembership(terminology);
  return coreMembership;
}

/** A change applied to one snapshot element of a derived profile. */
export type ElementChange = Partial<ElementDefinition>;

/**
 * Derives a constraint profile from a base definition by editing snapshot elements by path, the
 * way a snapshot generator would record a differential. Used to make test profiles.
 * @param baseType - Base resource or data type name.
 * @param id - Profile id; url is `http://re-fhir.org/fhir/StructureDefinition/{id}`.
 * @param changes - Element path → fields to overwrite.
 * @param added - Extra snapshot elements (e.g. children a profile expands), inserted after their parent.
 */
export function deriveProfile(
  baseType: string,
  id: string,
  changes: Record<string, ElementChange>,
  added: ElementDefinition[] = []
): StructureDefinition {
  const base = r4Definitions().structureDefinition(baseType);
  if (!base?.snapshot) {
    throw new Error(`No base definition for ${baseType}`);
  }
  const elements: ElementDefinition[] = structuredClone(base.snapshot.element);
  for (const [path, change] of Object.entries(changes)) {
    const element = elements.find((e) => e.path === path);
    if (!element) {
      throw new Error(`No element ${path} in ${baseType}`);
    }
    Object.assign(element, change);
  }
  for (const extra of added) {
    const parent = extra.path!.slice(0, extra.path!.lastIndexOf('.'));
    const at = elements.findIndex((e) => e.path === parent);
    elements.splice(at + 1, 0, extra);
  }
  const name = id
    .split('-')
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
  return {
    resourceType: 'StructureDefinition',
    id,
    url: `http://re-fhir.org/fhir/StructureDefinition/${id}`,
    version: '0.1.0',
    name,
    title: name,
    status: 'active',
    experimental: false,
    date: '2026-11-27',
    publisher: 're-fhir',
    description: `Test profile ${id}.`,
    fhirVersion: '4.0.1',
    kind: base.kind,
    abstract: false,
    type: baseType,
    baseDefinition: base.url,
    derivation: 'constraint',
    snapshot: { element: elements },
  };
}
