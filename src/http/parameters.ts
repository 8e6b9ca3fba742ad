import type { Request } from 'express';
import type { CodeableConcept, Coding, Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { isObject } from '../core/json';
import type { HttpError } from './errors';
import { httpError } from './errors';

/** The `value[x]` forms read as a string. */
const STRING_VALUES = [
  'valueString',
  'valueUri',
  'valueUrl',
  'valueCanonical',
  'valueCode',
  'valueId',
  'valueOid',
  'valueUuid',
] as const;

/**
 * The input of an operation, from a Parameters body (POST) or the query string (GET), read by name with
 * type checks. Unknown names and repeated single-valued parameters are 400s: a typo in a parameter name
 * must not silently change the result.
 * See: https://hl7.org/fhir/R4/operations.html#request
 */
export class OperationInput {
  private constructor(
    private readonly params: ReadonlyMap<string, readonly (ParametersParameter | string)[]>,
    private readonly where: string
  ) {}

  /**
   * From a POSTed Parameters resource.
   * @param body - The parsed body.
   * @param known - The parameter names the operation declares.
   */
  static fromParameters(body: unknown, known: readonly string[]): OperationInput {
    if (!isObject(body) || body.resourceType !== 'Parameters') {
      throw httpError(400, 'structure', 'Expected a Parameters resource');
    }
    unknownProperty(body, ROOT, 'Parameters');
    const list = (body as unknown as Parameters).parameter ?? [];
    if (!Array.isArray(list)) {
      throw httpError(400, 'structure', 'Parameters.parameter must be an array');
    }
    const params = new Map<string, ParametersParameter[]>();
    list.forEach((p, i) => {
      if (!isObject(p) || typeof p.name !== 'string') {
        throw httpError(400, 'structure', `Parameters.parameter[${i}] has no name`);
      }
      unknownProperty(p, PARAMETER, `Parameters.parameter[${i}]`);
      const values = Object.keys(p).filter((k) => k.startsWith('value') || k === 'resource' || k === 'part');
      if (values.length > 1) {
        throw httpError(400, 'structure', `Parameters.parameter[${i}] (${p.name}) has more than one value`);
      }
      const named = params.get(p.name) ?? [];
      named.push(p as ParametersParameter);
      params.set(p.name, named);
    });
    return new OperationInput(checkKnown(params, known), 'Parameters');
  }

  /**
   * From the query string of a GET (parameters starting with `_` are the server's, e.g. `_format`).
   * @param query - `req.query`.
   * @param known - The parameter names the operation declares.
   */
  static fromQuery(query: Request['query'], known: readonly string[]): OperationInput {
    const params = new Map<string, string[]>();
    for (const [name, value] of Object.entries(query)) {
      if (name.startsWith('_')) {
        continue;
      }
      const values = (Array.isArray(value) ? value : [value]).filter(
        (v): v is string => typeof v === 'string'
      );
      params.set(name, values);
    }
    return new OperationInput(checkKnown(params, known), 'query');
  }

  /** True when the parameter was given. */
  has(name: string): boolean {
    return (this.params.get(name)?.length ?? 0) > 0;
  }

  /**
   * A single string-like parameter (`valueString`, `valueUri`, `valueCode`, `valueCanonical`, …).
   * @param name - Parameter name.
   */
  string(name: string): string | undefined {
    const p = this.single(name);
    if (p === undefined || typeof p === 'string') {
      return p === undefined ? p : fhirString(name, p);
    }
    for (const key of STRING_VALUES) {
      const value = p[key];
      if (typeof value === 'string') {
        return fhirString(name, value, true);
      }
    }
    throw this.wrongType(name, 'a string');
  }

  /**
   * A single parameter that names a resource (`encounter`, `practitioner`, `subject`, …): a string with
   * something in it, no control characters and no surrounding blanks, else 400. Such values end up in
   * References of the output, where a blank one would break its profiles (a 500 that was the client's).
   * @param name - Parameter name.
   */
  reference(name: string): string | undefined {
    const value = this.string(name);
    return value === undefined ? undefined : checkedReference(name, value);
  }

  /**
   * Every value of a repeating parameter that names a resource (see {@link reference}).
   * @param name - Parameter name.
   */
  references(name: string): string[] {
    return this.strings(name).map((value) => checkedReference(name, value));
  }

  /**
   * Every value of a repeating string-like parameter.
   * @param name - Parameter name.
   */
  strings(name: string): string[] {
    return (this.params.get(name) ?? []).map((p) => {
      if (typeof p === 'string') {
        return fhirString(name, p);
      }
      const key = STRING_VALUES.find((k) => typeof p[k] === 'string');
      if (!key) {
        throw this.wrongType(name, 'a string');
      }
      return fhirString(name, p[key] as string, true);
    });
  }

  /**
   * A single integer parameter.
   * @param name - Parameter name.
   */
  integer(name: string): number | undefined {
    const p = this.single(name);
    if (p === undefined) {
      return undefined;
    }
    const value = typeof p === 'string' ? (/^-?\d+$/.test(p) ? Number(p) : NaN) : p.valueInteger;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw this.wrongType(name, 'an integer');
    }
    return value;
  }

  /**
   * A single boolean parameter.
   * @param name - Parameter name.
   */
  boolean(name: string): boolean | undefined {
    const p = this.single(name);
    if (p === undefined) {
      return undefined;
    }
    const value =
      typeof p === 'string' ? ({ true: true, false: false } as Record<string, boolean>)[p] : p.valueBoolean;
    if (typeof value !== 'boolean') {
      throw this.wrongType(name, 'a boolean');
    }
    return value;
  }

  /**
   * A single resource parameter (POST only), optionally of one type.
   * @param name - Parameter name.
   * @param resourceType - The expected type.
   */
  resource<T extends Resource>(name: string, resourceType?: T['resourceType']): T | undefined {
    const p = this.single(name);
    if (p === undefined) {
      return undefined;
    }
    const resource = typeof p === 'string' ? undefined : p.resource;
    if (!isObject(resource) || (resourceType !== undefined && resource.resourceType !== resourceType)) {
      throw this.wrongType(name, resourceType ? `a ${resourceType} resource` : 'a resource');
    }
    return resource as unknown as T;
  }

  /**
   * A single Coding parameter (POST only).
   * @param name - Parameter name.
   */
  coding(name: string): Coding | undefined {
    return this.complex(name, 'valueCoding', 'a Coding');
  }

  /**
   * A single CodeableConcept parameter (POST only).
   * @param name - Parameter name.
   */
  codeableConcept(name: string): CodeableConcept | undefined {
    return this.complex(name, 'valueCodeableConcept', 'a CodeableConcept');
  }

  private complex<T>(name: string, key: 'valueCoding' | 'valueCodeableConcept', what: string): T | undefined {
    const p = this.single(name);
    if (p === undefined) {
      return undefined;
    }
    const value = typeof p === 'string' ? undefined : p[key];
    if (!isObject(value)) {
      throw this.wrongType(name, what);
    }
    return value as T;
  }

  /**
   * Every value of a parameter as given (POST: the Parameters.parameter entries, with their parts), for
   * the few inputs with parts or Reference values; the caller checks their shape.
   * @param name - Parameter name.
   */
  raw(name: string): readonly (ParametersParameter | string)[] {
    return this.params.get(name) ?? [];
  }

  private single(name: string): ParametersParameter | string | undefined {
    const values = this.params.get(name) ?? [];
    if (values.length > 1) {
      throw httpError(400, 'invalid', `Parameter ${name} is given more than once`);
    }
    return values[0];
  }

  private wrongType(name: string, what: string): HttpError {
    return httpError(400, 'invalid', `Parameter ${name} must be ${what} (${this.where})`);
  }
}

/** The elements of Parameters and of Parameters.parameter (R4), and which of them are primitives. */
interface Shape {
  readonly keys: ReadonlySet<string>;
  /** Primitive elements: only these may have a `_` sibling (their id and extensions). */
  readonly primitives: ReadonlySet<string>;
  /** Whether `value[x]` is an element here (Parameters.parameter only). */
  readonly values: boolean;
}

const ROOT: Shape = {
  keys: new Set(['resourceType', 'id', 'meta', 'implicitRules', 'language', 'parameter']),
  primitives: new Set(['id', 'implicitRules', 'language']),
  values: false,
};
// Parameters.parameter.id is Element.id, a plain JSON string: it has no `_id`.
const PARAMETER: Shape = {
  keys: new Set(['id', 'extension', 'modifierExtension', 'name', 'resource', 'part']),
  primitives: new Set(['name']),
  values: true,
};

/** The R4 primitive types (as in `value[x]` names): a complex value has no `_value[x]` sibling. */
const PRIMITIVE_TYPES = new Set([
  'Base64Binary',
  'Boolean',
  'Canonical',
  'Code',
  'Date',
  'DateTime',
  'Decimal',
  'Id',
  'Instant',
  'Integer',
  'Markdown',
  'Oid',
  'PositiveInt',
  'String',
  'Time',
  'UnsignedInt',
  'Uri',
  'Url',
  'Uuid',
]);

function isKnown(key: string, shape: Shape): boolean {
  if (shape.keys.has(key)) {
    return true;
  }
  const value = shape.values ? /^(_?)value([A-Z][A-Za-z0-9]*)$/.exec(key) : null;
  if (value) {
    return value[1] === '' || PRIMITIVE_TYPES.has(value[2]!);
  }
  return key.startsWith('_') && shape.primitives.has(key.slice(1));
}

/**
 * A Parameters is input like any resource: a property R4 does not define (a typo, `__proto__`, or a
 * `_` sibling of a complex element such as `_valueCoding`) is not FHIR, and is refused rather than
 * ignored. Nested resources are validated where they are used.
 */
function unknownProperty(element: Record<string, unknown>, shape: Shape, where: string): void {
  const unknown = Object.keys(element).find((k) => !isKnown(k, shape));
  if (unknown !== undefined) {
    throw httpError(400, 'structure', `${where} has an unknown property "${unknown.slice(0, 64)}"`);
  }
}

function checkKnown<T>(params: Map<string, T>, known: readonly string[]): Map<string, T> {
  const unknown = [...params.keys()].filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw httpError(
      400,
      'not-supported',
      `Unknown parameter(s): ${unknown.join(', ')}; accepted: ${known.join(', ')}`
    );
  }
  return params;
}

/**
 * True when a request body was sent: the JSON parser leaves `undefined` without a body, and an empty
 * object for an empty JSON body.
 * @param body - `req.body`.
 */
export function hasBody(body: unknown): boolean {
  return body !== undefined && !(isObject(body) && Object.keys(body).length === 0);
}

/**
 * A string parameter as FHIR admits it: not blank (nor empty, in Parameters), no control characters other than tab,
 * CR and LF (R4 datatypes, string). Anything else would be echoed into output that is not valid FHIR; 400.
 */
function fhirString(name: string, value: string, inParameters = false): string {
  // A query may say `?filter=`; a Parameters value is a FHIR primitive, never empty; neither is blank.
  if ((inParameters || value !== '') && value.trim() === '') {
    throw httpError(400, 'invalid', `Parameter ${name} is blank, which a FHIR value may not be`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value)) {
    throw httpError(
      400,
      'invalid',
      `Parameter ${name} contains control characters, which FHIR strings may not`
    );
  }
  return value;
}

/** A reference-like parameter value, or 400 when it cannot name anything. */
function checkedReference(name: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  if (value.trim() === '' || value.trim() !== value || /[\u0000-\u001f\u007f]/.test(value)) {
    throw httpError(
      400,
      'invalid',
      `Parameter ${name} must name a resource (e.g. Encounter/123): it is blank, has surrounding blanks or control characters`
    );
  }
  return value;
}
