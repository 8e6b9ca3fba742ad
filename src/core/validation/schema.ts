import type { ErrorObject, ValidateFunction } from 'ajv';
import type { DataValidationCxt } from 'ajv/dist/types';
import Ajv from 'ajv';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../outcomes';
import { childLocation, pointerToLocation } from './location';
import { createSchemaCheck, NESTED_RESOURCE_KEYWORD } from './schema-check';

/**
 * The official FHIR R4 JSON schema (`fhir.schema.json`, as published by HL7), passed in as parsed
 * JSON. Only `definitions` is used; the root `oneOf` is never compiled (it is slow and its errors
 * are useless), validators are dispatched on `resourceType` instead.
 * See: https://hl7.org/fhir/R4/json.html#schema
 */
export interface FhirJsonSchema {
  readonly id?: string;
  readonly $id?: string;
  readonly $schema?: string;
  readonly definitions: Readonly<Record<string, unknown>>;
}

/** Schema-tier options. */
export interface SchemaTierOptions {
  /** Most issues reported for one resource (garbage input can yield thousands); default 100. */
  readonly maxIssues?: number;
}

/**
 * Validates one resource against the JSON schema of its `resourceType`; returns the problems as
 * issues (severity `error`, code `structure`). Never throws on bad input.
 */
export type SchemaValidate = (resource: unknown) => OperationOutcomeIssue[];

/**
 * The schema tier: a resource is first checked by a yes/no check derived from the schema
 * (schema-check.ts), and only a resource it does not accept goes to ajv, whose validators are
 * compiled lazily, once per resource type, then cached, and report the errors.
 */
export interface SchemaTier {
  readonly validate: SchemaValidate;
  /**
   * True only when both `validate(resource)` and `checkJsonRules(resource)` (json-rules.ts) would
   * find nothing: one walk for the common case of a valid resource (issue 13, lever 2). On `false`
   * the caller runs both as before, which then report what there is.
   */
  readonly clean: (resource: unknown) => boolean;
  /**
   * Builds the yes/no checks for these types now (e.g. at start-up), so that the first resource of
   * a type does not wait for them; a type not warmed gets its checks on first use. ajv's validators
   * are never compiled here: only input that fails the check needs them, so each is compiled when
   * a resource of its type first fails (about 0.1–0.3 s for the first type, which brings in the
   * data types; milliseconds for each further one), and the valid input's start-up does not pay
   * for them.
   */
  readonly warm: (resourceTypes: readonly string[]) => void;
  /** Resource types defined by the schema. */
  readonly resourceTypes: ReadonlySet<string>;
}

const SCHEMA_ID = 'http://hl7.org/fhir/json-schema/4.0';

/**
 * Creates the schema tier over the official R4 JSON schema.
 *
 * Compiling the whole schema costs 1.5–2 s because every resource's `contained` refers to
 * `ResourceList`, the `oneOf` of all 146 resources. Here `ResourceList` is replaced by a keyword
 * that validates a nested resource with the validator of its own `resourceType`, so compiling
 * one resource type only pulls in the data types (about 100 ms for the first type, about 10 ms for
 * each further one) and nested resources (contained, Bundle entries) are still fully checked.
 * @param schema - The official `fhir.schema.json` (not Medplum's copy, which does not compile).
 * @param options - Limits.
 */
export function createSchemaTier(schema: FhirJsonSchema, options: SchemaTierOptions = {}): SchemaTier {
  const maxIssues = options.maxIssues ?? 100;
  const { definitions, resourceTypes } = schemaDefinitions(schema);
  // Resource definitions inline primitive patterns, so a failed pattern is named by its text.
  const primitiveByPattern = new Map<string, string>();
  for (const [name, definition] of Object.entries(definitions)) {
    const pattern = (definition as { pattern?: unknown } | undefined)?.pattern;
    if (/^[a-z]/.test(name) && typeof pattern === 'string' && !primitiveByPattern.has(pattern)) {
      primitiveByPattern.set(pattern, name);
    }
  }
  const validators = new Map<string, ValidateFunction>();
  // The common case, a valid resource, is answered without ajv; the check says yes only when ajv
  // would find no error, so the issues below are ajv's alone (schema-differential.test.ts).
  const accepts = createSchemaCheck(definitions, resourceTypes);
  const clean = createSchemaCheck(definitions, resourceTypes, { jsonRules: true });
  // ajv is made, and each type's validator compiled, only when a resource first fails the check
  // (issue 13: compiling the common types was about three quarters of a pool worker's start-up).
  let ajv: Ajv | undefined;

  function createAjv(): Ajv {
    // code.optimize off: the generated code's optimisation pass roughly doubles compile time (the
    // first invalid resource's cost) and makes no measurable difference to validation speed.
    const made = new Ajv({
      strictTypes: false,
      allErrors: true,
      validateSchema: false,
      code: { optimize: false },
    });
    made.addMetaSchema(draft06);
    made.addVocabulary(['discriminator']);
    made.addKeyword({
      keyword: NESTED_RESOURCE_KEYWORD,
      schemaType: 'boolean',
      errors: true,
      validate: validateNested,
    });
    // `definitions` only: the root oneOf is never compiled.
    made.addSchema({ $schema: schema.$schema, $id: SCHEMA_ID, definitions }, SCHEMA_ID);
    return made;
  }

  // ajv reads a keyword's errors from the function's own `errors` property and keeps an
  // `instancePath` that is already set, so nested errors arrive with absolute paths.
  const validateNested = Object.assign(
    (_schema: unknown, data: unknown, _parent?: unknown, dataCxt?: DataValidationCxt): boolean => {
      const errors = errorsFor(data, dataCxt?.instancePath ?? '');
      validateNested.errors = errors.length > 0 ? errors : undefined;
      return errors.length === 0;
    },
    { errors: undefined as ErrorObject[] | undefined }
  );

  function validatorFor(resourceType: string): ValidateFunction | undefined {
    let validator = validators.get(resourceType);
    if (!validator && resourceTypes.has(resourceType)) {
      ajv ??= createAjv();
      validator = ajv.getSchema(`${SCHEMA_ID}#/definitions/${resourceType}`);
      if (validator) {
        validators.set(resourceType, validator);
      }
    }
    return validator;
  }

  /** Errors for one (possibly nested) resource, with instance paths absolute from the root. */
  function errorsFor(data: unknown, basePath: string): ErrorObject[] {
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      return [synthetic(basePath, 'type', 'Resource must be a JSON object')];
    }
    const resourceType = (data as { resourceType?: unknown }).resourceType;
    if (typeof resourceType !== 'string') {
      return [synthetic(basePath, 'required', 'Missing resourceType', { missingProperty: 'resourceType' })];
    }
    const validator = validatorFor(resourceType);
    if (!validator) {
      return [synthetic(`${basePath}/resourceType`, 'enum', `Unknown resource type "${resourceType}"`)];
    }
    if (validator(data)) {
      return [];
    }
    return (validator.errors ?? []).map((e) => ({
      ...e,
      instancePath: basePath + e.instancePath,
      params:
        e.keyword === 'pattern'
          ? { ...e.params, primitive: primitiveByPattern.get(String(e.params.pattern)) ?? 'string' }
          : e.params,
    }));
  }

  return {
    resourceTypes,
    clean,
    warm: (types) => {
      for (const type of types) {
        accepts({ resourceType: type });
        clean({ resourceType: type });
      }
    },
    validate: (resource) => {
      if (accepts(resource)) {
        return [];
      }
      const errors = errorsFor(resource, '');
      if (errors.length === 0) {
        return [];
      }
      const root = rootLocation(resource);
      const issues: OperationOutcomeIssue[] = [];
      const seen = new Set<string>();
      for (const error of errors) {
        const mapped = toIssue(root, error);
        const key = `${mapped.expression?.[0]}\u0000${mapped.details?.text}`;
        if (!seen.has(key)) {
          seen.add(key);
          issues.push(mapped);
          if (issues.length >= maxIssues) {
            issues.push(
              issue('error', 'too-costly', `More than ${maxIssues} schema errors; the rest are not shown`)
            );
            break;
          }
        }
      }
      return issues;
    },
  };
}

/** The schema's definitions as the tier uses them, and the resource types they define. */
export interface SchemaDefinitions {
  readonly definitions: Readonly<Record<string, unknown>>;
  readonly resourceTypes: ReadonlySet<string>;
}

/**
 * The definitions ajv compiles and the yes/no check reads: `ResourceList` (the `oneOf` of every
 * resource) replaced by the nested-resource keyword, and R4's own "4.0.1" added to the
 * `fhirVersion` enums.
 * @param schema - The official `fhir.schema.json`.
 */
export function schemaDefinitions(schema: FhirJsonSchema): SchemaDefinitions {
  const definitions = { ...schema.definitions } as Record<string, unknown>;
  const resourceTypes = new Set<string>();
  for (const [name, definition] of Object.entries(definitions)) {
    if (isResourceDefinition(definition, name)) {
      resourceTypes.add(name);
    }
  }
  definitions.ResourceList = { [NESTED_RESOURCE_KEYWORD]: true };
  // The published R4 schema's fhirVersion enums stop at 4.0.0 and so reject R4's own "4.0.1".
  for (const [name, definition] of Object.entries(definitions)) {
    const properties = (definition as { properties?: Record<string, { enum?: string[] }> }).properties;
    const fhirVersion = properties?.fhirVersion;
    if (fhirVersion?.enum && !fhirVersion.enum.includes('4.0.1')) {
      definitions[name] = {
        ...(definition as object),
        properties: { ...properties, fhirVersion: { ...fhirVersion, enum: [...fhirVersion.enum, '4.0.1'] } },
      };
    }
  }
  return { definitions, resourceTypes };
}

function isResourceDefinition(definition: unknown, name: string): boolean {
  const properties = (definition as { properties?: Record<string, { const?: unknown }> } | undefined)
    ?.properties;
  return properties?.resourceType?.const === name;
}

function rootLocation(resource: unknown): string {
  const type = (resource as { resourceType?: unknown } | null)?.resourceType;
  return typeof type === 'string' && /^[A-Z][A-Za-z]*$/.test(type) ? type : 'Resource';
}

function synthetic(
  instancePath: string,
  keyword: string,
  message: string,
  params: Record<string, unknown> = {}
): ErrorObject {
  return { instancePath, keyword, message, params: { ...params, synthetic: true }, schemaPath: '#' };
}

/** Maps one ajv error to a concise issue with a FHIRPath-style location. */
function toIssue(root: string, error: ErrorObject): OperationOutcomeIssue {
  const location = pointerToLocation(root, error.instancePath);
  const params = error.params as Record<string, unknown>;
  if (params.synthetic) {
    return issue('error', 'structure', error.message ?? 'Invalid resource', location);
  }
  switch (error.keyword) {
    case 'additionalProperties': {
      const property = String(params.additionalProperty);
      return issue('error', 'structure', `Unknown property "${property}"`, childLocation(location, property));
    }
    case 'required':
      return issue(
        'error',
        'structure',
        'Missing required property',
        childLocation(location, String(params.missingProperty))
      );
    case 'type':
      return issue('error', 'structure', `Invalid JSON type: expected ${String(params.type)}`, location);
    case 'pattern':
      return issue('error', 'structure', `Invalid ${String(params.primitive ?? 'string')} format`, location);
    case 'enum':
      return issue(
        'error',
        'structure',
        `Invalid code: expected one of ${(params.allowedValues as unknown[]).join(', ')}`,
        location
      );
    case 'const':
      return issue(
        'error',
        'structure',
        `Invalid value: expected "${String(params.allowedValue)}"`,
        location
      );
    default:
      return issue('error', 'structure', error.message ?? `Invalid value (${error.keyword})`, location);
  }
}
