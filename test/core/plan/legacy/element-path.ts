// The element-path module of $apply before issue 13's sixth round (e7a2581), frozen with test/core/plan/legacy: the narratives and dynamic-value writes the new code must equal.
// Do not change it to follow src/core/plan; only its import paths differ.
import r4 from 'fhirpath/fhir-context/r4';
import { copyJson } from '../../../../src/core/json';

/**
 * Writes values at a `dynamicValue.path`. The path language is the "simple FHIRPath" subset the R4
 * spec allows: element names separated by dots, each optionally followed by a constant index `[n]`
 * (e.g. `dosageInstruction[0].timing.repeat.frequency`, `reasonReference.reference`). Element names,
 * whether they repeat and their types come from fhirpath.js's R4 model, so any R4 resource works.
 * See: https://hl7.org/fhir/R4/activitydefinition-definitions.html#ActivityDefinition.dynamicValue.path
 *
 * How a result of n values is written (documented behaviour, tested):
 * - If some repeating element on the path has no index, the last such element is the *spread point*:
 *   it is replaced by n new elements, the i-th holding value i at the rest of the path. Repeating
 *   elements before it without an index mean `[0]`. So `reasonReference.reference` with two values
 *   yields two references, and `note.text` with none removes `note`.
 * - Otherwise (every repeating element is indexed, or none repeats) at most one value is allowed:
 *   one value is set, no value removes the element, more than one is an error and nothing is written.
 * - An index equal to the array length appends; a larger index is an error. On an element that does
 *   not repeat only `[0]` is allowed.
 * - Values are deep-copied; a primitive element takes a string, number or boolean of the matching
 *   kind, a complex element takes an object. Anything else is an error and nothing is written.
 */

interface ModelInfo {
  path2Type: Record<string, string | { code: string } | undefined>;
  path2Repeating: Record<string, boolean | undefined>;
  pathsDefinedElsewhere: Record<string, string | undefined>;
}

const model = r4 as unknown as ModelInfo;

/** One step of a simple path. */
export interface PathSegment {
  readonly name: string;
  readonly index?: number;
}

/** What the model says about one element. */
interface ElementInfo {
  /** Model path under which the element's own children are defined. */
  readonly childBase: string;
  readonly typeCode: string;
  readonly repeating: boolean;
}

const SEGMENT = /^([A-Za-z][A-Za-z0-9_]*)(?:\[(\d+)\])?$/;

const NUMBER_TYPES = new Set([
  'integer',
  'decimal',
  'positiveInt',
  'unsignedInt',
  'System.Integer',
  'System.Decimal',
]);
const BOOLEAN_TYPES = new Set(['boolean', 'System.Boolean']);

/**
 * Parses a simple path; `undefined` when it uses anything beyond names and constant indexes.
 * @param path - e.g. `dosageInstruction[0].text`
 */
export function parseSimplePath(path: string): PathSegment[] | undefined {
  if (path.trim() === '') {
    return undefined;
  }
  const segments: PathSegment[] = [];
  for (const part of path.split('.')) {
    const match = SEGMENT.exec(part);
    if (!match) {
      return undefined;
    }
    segments.push(
      match[2] === undefined ? { name: match[1]! } : { name: match[1]!, index: Number(match[2]) }
    );
  }
  return segments;
}

function describeElement(base: string, name: string): ElementInfo | undefined {
  const key = `${base}.${name}`;
  const elsewhere = model.pathsDefinedElsewhere[key];
  if (elsewhere) {
    // The model records cardinality only on the defining path (e.g. RequestGroup.action for
    // RequestGroup.action.action); in R4 the reusing element has the same cardinality.
    return {
      childBase: elsewhere,
      typeCode: 'BackboneElement',
      repeating: model.path2Repeating[elsewhere] === true,
    };
  }
  const type = model.path2Type[key];
  if (type === undefined) {
    return undefined;
  }
  const typeCode = typeof type === 'string' ? type : type.code;
  const childBase = typeCode === 'BackboneElement' || typeCode === 'Element' ? key : typeCode;
  return { childBase, typeCode, repeating: model.path2Repeating[key] === true };
}

function isPrimitive(typeCode: string): boolean {
  return typeCode.startsWith('System.') || /^[a-z]/.test(typeCode);
}

/**
 * Checks that a value fits an element of the given type; returns the reason when it does not.
 * @param typeCode - model type code, e.g. `string`, `positiveInt`, `Reference`
 * @param value - one FHIRPath result
 */
function misfit(typeCode: string, value: unknown): string | undefined {
  if (isPrimitive(typeCode)) {
    if (BOOLEAN_TYPES.has(typeCode)) {
      return typeof value === 'boolean' ? undefined : `${typeCode} needs a boolean`;
    }
    if (NUMBER_TYPES.has(typeCode)) {
      return typeof value === 'number' ? undefined : `${typeCode} needs a number`;
    }
    return typeof value === 'string' ? undefined : `${typeCode} needs a string`;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? undefined
    : `${typeCode} needs an object`;
}

type Json = Record<string, unknown>;

/**
 * Sets `values` at `path` on `target` (modified in place) following the rules in the module comment.
 * Returns `undefined` on success, or the reason nothing was written.
 * @param target - the resource (or backbone element) to modify
 * @param base - the model path of `target`, e.g. `ServiceRequest` or `RequestGroup.action`
 * @param path - the simple path
 * @param values - the expression's results
 */
export function setPathValues(
  target: Json,
  base: string,
  path: string,
  values: readonly unknown[]
): string | undefined {
  const segments = parseSimplePath(path);
  if (!segments) {
    return `path ${JSON.stringify(path)} is not a simple path (names and constant indexes only)`;
  }
  const infos: ElementInfo[] = [];
  let currentBase = base;
  for (const segment of segments) {
    const info = describeElement(currentBase, segment.name);
    if (!info) {
      return `${currentBase} has no element ${JSON.stringify(segment.name)}`;
    }
    if (!info.repeating && segment.index !== undefined && segment.index !== 0) {
      return `${currentBase}.${segment.name} does not repeat; only [0] may index it`;
    }
    infos.push(info);
    currentBase = info.childBase;
  }
  const last = infos[infos.length - 1]!;
  let spread = -1;
  segments.forEach((segment, i) => {
    if (infos[i]!.repeating && segment.index === undefined) {
      spread = i;
    }
  });
  for (const value of values) {
    const reason = misfit(last.typeCode, value);
    if (reason) {
      return `value ${JSON.stringify(value)} does not fit ${path}: ${reason}`;
    }
  }
  if (spread < 0 && values.length > 1) {
    return `${values.length} values for ${path}, which holds one; index a repeating element without [n] to spread them`;
  }
  const stop = spread >= 0 ? spread : segments.length - 1;
  const removing = values.length === 0;
  // Walk to the parent of the element at `stop`, creating elements unless there is nothing to write.
  let node: Json = target;
  for (let i = 0; i < stop; i++) {
    const next = step(node, segments[i]!, infos[i]!, !removing);
    if (typeof next === 'string') {
      return next;
    }
    if (next === undefined) {
      return undefined; // nothing there, so nothing to remove
    }
    node = next;
  }
  const segment = segments[stop]!;
  const info = infos[stop]!;
  if (spread >= 0) {
    const rest = segments.slice(stop + 1);
    if (removing) {
      Reflect.deleteProperty(node, segment.name);
      return undefined;
    }
    node[segment.name] = values.map((value) =>
      rest.length === 0 ? copy(value) : build(rest, infos.slice(stop + 1), value)
    );
    return undefined;
  }
  return assign(node, segment, info, values[0], removing);
}

function copy(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? copyJson(value) : value;
}

/** Builds a fresh element holding `value` at the given (index-free or `[0]`) rest of a path. */
function build(rest: readonly PathSegment[], infos: readonly ElementInfo[], value: unknown): Json {
  const root: Json = {};
  let node = root;
  rest.forEach((segment, i) => {
    const lastStep = i === rest.length - 1;
    const child = lastStep ? copy(value) : {};
    node[segment.name] = infos[i]!.repeating ? [child] : child;
    if (!lastStep) {
      node = child as Json;
    }
  });
  return root;
}

/** Moves one step down, creating the child when `create` is set; returns an error string on a clash. */
function step(
  node: Json,
  segment: PathSegment,
  info: ElementInfo,
  create: boolean
): Json | string | undefined {
  const index = segment.index ?? 0;
  const existing = node[segment.name];
  if (info.repeating) {
    const list = Array.isArray(existing) ? existing : existing === undefined ? undefined : null;
    if (list === null) {
      return `${segment.name} holds a non-array value`;
    }
    const array = list ?? [];
    if (!create && index >= array.length) {
      return undefined;
    }
    if (index > array.length) {
      return `index ${index} is beyond the end of ${segment.name} (length ${array.length})`;
    }
    if (index === array.length) {
      if (!create) {
        return undefined;
      }
      array.push({});
    }
    node[segment.name] = array;
    const child = array[index];
    return child !== null && typeof child === 'object' && !Array.isArray(child)
      ? (child as Json)
      : `${segment.name}[${index}] is not an element`;
  }
  if (existing === undefined) {
    if (!create) {
      return undefined;
    }
    node[segment.name] = {};
  }
  const child = node[segment.name];
  return child !== null && typeof child === 'object' && !Array.isArray(child)
    ? (child as Json)
    : `${segment.name} is not an element`;
}

function assign(
  node: Json,
  segment: PathSegment,
  info: ElementInfo,
  value: unknown,
  remove: boolean
): string | undefined {
  if (!info.repeating) {
    if (remove) {
      Reflect.deleteProperty(node, segment.name);
    } else {
      node[segment.name] = copy(value);
    }
    return undefined;
  }
  const index = segment.index ?? 0;
  const existing = node[segment.name];
  if (existing !== undefined && !Array.isArray(existing)) {
    return `${segment.name} holds a non-array value`;
  }
  const array = (existing as unknown[] | undefined) ?? [];
  if (!remove && index > array.length) {
    return `index ${index} is beyond the end of ${segment.name} (length ${array.length})`;
  }
  if (remove) {
    if (index < array.length) {
      array.splice(index, 1);
    }
  } else {
    array[index] = copy(value);
  }
  if (array.length === 0) {
    Reflect.deleteProperty(node, segment.name);
  } else {
    node[segment.name] = array;
  }
  return undefined;
}
