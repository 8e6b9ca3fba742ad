/**
 * A yes/no check of a resource against the official R4 JSON schema, derived from the same
 * definitions ajv compiles (issue 13). It answers `true` only when ajv would find no error, and is
 * built for that common case: it visits the keys the data has instead of every property the schema
 * names, builds no error paths and allocates nothing. When it says `false` (or meets anything it does
 * not model), the schema tier asks ajv, which reports the errors exactly as before; so the issues
 * are ajv's by construction, and `test/core/validation/schema-differential.test.ts` holds the
 * verdict equal to ajv's on golden, generated and mutated resources.
 *
 * The R4 schema uses few keywords: per definition `properties` + `additionalProperties: false` +
 * `required` (objects), `type` + `pattern` (primitives), or the `oneOf` of all resources, which the
 * tier replaces by a nested-resource check; per property `$ref`, `enum`, `const`, or `type: array`
 * with `items`. A definition using anything else is not modelled and always answers `false`.
 */

import { jsonRulesHold, MAX_JSON_DEPTH } from './json-rules';

/**
 * A yes/no check of one value; `true` only when ajv would accept it (and, with the JSON rules, when
 * `checkJsonRules` would find nothing in it at this `depth`: the resource is 0, each object or array
 * level adds one).
 */
type Check = (value: unknown, depth: number) => boolean;

/** Options of {@link createSchemaCheck}. */
export interface SchemaCheckOptions {
  /**
   * Also hold the JSON rules (json-rules.ts): `true` only when ajv would accept the resource and
   * `checkJsonRules` would find nothing, in one walk instead of two (issue 13, lever 2). Where the
   * schema lets any value pass (an object keyword given an array, `xhtml`), the value is checked by
   * {@link jsonRulesHold}. Conservative off JSON data (a hidden member may answer `false` where ajv
   * and the JSON rules find nothing); on JSON data exact (`schema-differential.test.ts`).
   */
  readonly jsonRules?: boolean;
}

/** The nested-resource keyword the tier puts in place of `ResourceList` (see schema.ts). */
export const NESTED_RESOURCE_KEYWORD = 'fhirResource';

const REF_PREFIX = '#/definitions/';
const IGNORED = new Set(['description']);
const OBJECT_KEYWORDS = new Set(['properties', 'additionalProperties', 'required']);
const PRIMITIVE_KEYWORDS = new Set(['type', 'pattern']);
const PROPERTY_KEYWORDS = new Set(['$ref', 'enum', 'const', 'type', 'items', 'pattern']);
const never: Check = () => false;
const always: Check = () => true;
/** `always` under the JSON rules: only a value they accept. */
const jsonRulesOnly: Check = (value, depth) =>
  typeof value !== 'object' || value === null || jsonRulesHold(value, depth);

/**
 * The checks of a schema's definitions, built lazily (one per definition the data reaches, so the
 * number is bounded by the schema) and cached.
 * @param definitions - The definitions as given to ajv (with `ResourceList` replaced).
 * @param resourceTypes - The resource types (definitions whose `resourceType` is a `const`).
 * @param options - With the JSON rules or not.
 * @returns The check of a resource: `true` only when ajv would accept it (and the JSON rules hold,
 * when asked for).
 */
export function createSchemaCheck(
  definitions: Readonly<Record<string, unknown>>,
  resourceTypes: ReadonlySet<string>,
  options: SchemaCheckOptions = {}
): (resource: unknown) => boolean {
  const rules = options.jsonRules === true;
  const checks = new Map<string, Check>();
  // ajv reads a property as `data.name`: a name Object.prototype answers would be seen on every
  // object, so such a schema is not modelled (the R4 schema has none).
  const modelled = Object.entries(definitions).every(([, d]) =>
    Object.keys(propertiesOf(d) ?? {}).every((name) => !(name in Object.prototype))
  );

  function definitionCheck(name: string): Check {
    let check = checks.get(name);
    if (!check) {
      check = buildDefinition(definitions[name]);
      checks.set(name, check);
    }
    return check;
  }

  function buildDefinition(definition: unknown): Check {
    if (typeof definition !== 'object' || definition === null) {
      return never;
    }
    const keys = Object.keys(definition).filter((k) => !IGNORED.has(k));
    const schema = definition as Record<string, unknown>;
    if (keys.length === 0) {
      return rules ? jsonRulesOnly : always; // e.g. xhtml: a description only.
    }
    if (keys.length === 1 && schema[NESTED_RESOURCE_KEYWORD] === true) {
      return nestedResource;
    }
    if (keys.every((k) => OBJECT_KEYWORDS.has(k)) && schema.additionalProperties === false) {
      return objectCheck(schema);
    }
    if (keys.every((k) => PRIMITIVE_KEYWORDS.has(k))) {
      return primitiveCheck(schema);
    }
    return never;
  }

  function objectCheck(schema: Record<string, unknown>): Check {
    const properties = new Map<string, Check>();
    const declared = schema.properties;
    if (declared !== undefined && (typeof declared !== 'object' || declared === null)) {
      return never;
    }
    // The name and check met at each position of the objects checked last: objects of one
    // definition mostly list the same names in the same order, and comparing a name by identity
    // costs less than a Map look-up. An entry is always a declared name and that name's check (a
    // resolved $ref replaces its own entries), so a nested check overwriting it does no harm.
    const seenNames: string[] = [];
    const seenChecks: Check[] = [];
    for (const [name, property] of Object.entries(declared ?? {})) {
      properties.set(
        name,
        propertyCheck(property, (check) => {
          properties.set(name, check);
          for (let i = 0; i < seenNames.length; i++) {
            if (seenNames[i] === name) {
              seenChecks[i] = check;
            }
          }
        })
      );
    }
    const required = schema.required ?? [];
    if (!Array.isArray(required) || !required.every((r) => typeof r === 'string')) {
      return never;
    }
    const requiredNames = required as string[];
    return (value, depth) => {
      // ajv applies object keywords to objects only: anything else passes them.
      if (typeof value !== 'object' || value === null) {
        return true;
      }
      if (Array.isArray(value)) {
        return !rules || jsonRulesHold(value, depth);
      }
      if (rules && depth > MAX_JSON_DEPTH) {
        return false;
      }
      // ajv finds extra keys with for…in but reads members as `data.name`, which also sees own
      // non-enumerable and inherited members: only plain objects are answered here.
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        return false;
      }
      const names = Object.getOwnPropertyNames(value);
      // The JSON rules see own enumerable keys: an object with none is empty (ele-1). for…in meets
      // exactly those here (the prototype is Object.prototype, checked to have none, or null), and
      // costs less than asking a name's enumerability.
      if (rules && (names.length === 0 || !hasEnumerableMembers(value))) {
        return false;
      }
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        let check: Check | undefined;
        if (i < seenNames.length && seenNames[i] === name) {
          check = seenChecks[i]!;
        } else {
          check = properties.get(name);
          if (check === undefined) {
            return false;
          }
          if (i <= seenNames.length) {
            seenNames[i] = name;
            seenChecks[i] = check;
          }
        }
        const member: unknown = (value as Record<string, unknown>)[name];
        if (member !== undefined && !check(member, depth + 1)) {
          return false;
        }
      }
      for (let i = 0; i < requiredNames.length; i++) {
        if ((value as Record<string, unknown>)[requiredNames[i]!] === undefined) {
          return false;
        }
      }
      return true;
    };
  }

  /**
   * The check of one property's schema. A `$ref` is resolved on its first use (so building never
   * recurses through the schema's cycles) and then `install`s the target's check in its own place.
   */
  function propertyCheck(property: unknown, install: (check: Check) => void): Check {
    if (typeof property !== 'object' || property === null) {
      return never;
    }
    const schema = property as Record<string, unknown>;
    const keys = Object.keys(schema).filter((k) => !IGNORED.has(k));
    if (!keys.every((k) => PROPERTY_KEYWORDS.has(k))) {
      return never;
    }
    if (keys.length === 1 && typeof schema.$ref === 'string') {
      const ref = schema.$ref;
      if (!ref.startsWith(REF_PREFIX) || !(ref.slice(REF_PREFIX.length) in definitions)) {
        return never;
      }
      const name = ref.slice(REF_PREFIX.length);
      return (value, depth) => {
        const target = definitionCheck(name);
        install(target);
        return target(value, depth);
      };
    }
    if (keys.length === 1 && Array.isArray(schema.enum)) {
      return enumCheck(schema.enum);
    }
    if (keys.length === 1 && 'const' in schema) {
      const expected = schema.const;
      // fast-deep-equal, as ajv compares a const, is === for a string.
      return typeof expected === 'string' ? (value) => value === expected : never;
    }
    if (keys.length === 2 && schema.type === 'array' && 'items' in schema) {
      let item = propertyCheck(schema.items, (check) => {
        item = check;
      });
      return (value, depth) => {
        if (!Array.isArray(value)) {
          return false;
        }
        if (rules && (value.length === 0 || depth > MAX_JSON_DEPTH)) {
          return false; // The JSON rules: never empty, never too deep.
        }
        // By index, as ajv does: a hole is checked as undefined.
        for (let i = 0; i < value.length; i++) {
          if (!item(value[i], depth + 1)) {
            return false;
          }
        }
        return true;
      };
    }
    if (keys.every((k) => PRIMITIVE_KEYWORDS.has(k))) {
      return primitiveCheck(schema);
    }
    return never;
  }

  function nestedResource(value: unknown, depth: number): boolean {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return false;
    }
    const type = (value as { resourceType?: unknown }).resourceType;
    return typeof type === 'string' && resourceTypes.has(type) && definitionCheck(type)(value, depth);
  }

  // ajv's for…in would also meet enumerable members added to Object.prototype, as extra properties.
  return (resource) => modelled && !hasEnumerableMembers(Object.prototype) && nestedResource(resource, 0);
}

function hasEnumerableMembers(object: object): boolean {
  for (const _ in object) {
    return true;
  }
  return false;
}

function propertiesOf(definition: unknown): Record<string, unknown> | undefined {
  const properties = (definition as { properties?: unknown } | null | undefined)?.properties;
  return typeof properties === 'object' && properties !== null
    ? (properties as Record<string, unknown>)
    : undefined;
}

/** `enum` of strings: ajv compares each with ===, which a Set of strings answers alike. */
function enumCheck(values: unknown[]): Check {
  if (!values.every((v) => typeof v === 'string')) {
    return never;
  }
  const allowed = new Set(values as string[]);
  return (value) => typeof value === 'string' && allowed.has(value);
}

/** `type` (string, number, boolean) with an optional `pattern`, which ajv applies to strings only. */
function primitiveCheck(schema: Record<string, unknown>): Check {
  const pattern = schema.pattern;
  if (pattern !== undefined && typeof pattern !== 'string') {
    return never;
  }
  switch (schema.type) {
    case 'string':
      return pattern === undefined ? (value) => typeof value === 'string' : stringCheck(pattern);
    case 'number':
      // ajv's strictNumbers (its default): NaN and ±Infinity are not numbers.
      return (value) => typeof value === 'number' && isFinite(value);
    case 'boolean':
      return (value) => typeof value === 'boolean';
    default:
      return never;
  }
}

/** A string with a pattern, tested with the `u` flag as ajv does (its `unicodeRegExp` default). */
function stringCheck(pattern: string): Check {
  const regex = new RegExp(pattern, 'u');
  return (value) => typeof value === 'string' && regex.test(value);
}
