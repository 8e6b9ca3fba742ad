import r4 from 'fhirpath/fhir-context/r4';

/**
 * Member navigation for the compiled FHIRPath closures (compile.ts): where `parent.key` is found in
 * the JSON and how fhirpath.js types it, worked out from the R4 model once per parent path and kept
 * in the member's own table, so that a navigation step builds no strings and consults no model table.
 */

/** The model tables fhirpath.js navigates with (the same R4 model object). */
interface Model {
  readonly choiceTypePaths: Record<string, string[] | undefined>;
  readonly pathsDefinedElsewhere: Record<string, string | undefined>;
  readonly path2Type: Record<string, string | undefined>;
  readonly path2TypeWithoutElements: Record<string, string | undefined>;
}
const model = r4 as unknown as Model;

/** One member step from a parent of a given path: the JSON fields to look in, in order, and their typing. */
export interface ChildStep {
  /** The element's JSON names: the key itself, or the key with each choice type's suffix. */
  readonly fields: readonly string[];
  /** `_` and each field: where primitive extensions would be. */
  readonly extensionFields: readonly string[];
  /** fhirpath.js's `path` of a child found in `fields[i]` (null under an untyped parent). */
  readonly paths: readonly (string | null)[];
  /** fhirpath.js's `fhirNodeDataType` of a child found in `fields[i]`. */
  readonly types: readonly (string | null)[];
  /**
   * For a choice element (more than one field): each field and `_field` name to its position `i`, so
   * that a step can look at the few keys an object has instead of probing every choice type's two
   * names (an R4 `value[x]` has up to 50).
   */
  readonly positions: ReadonlyMap<string, number> | undefined;
}

/**
 * Parent paths remembered per member. The paths a member meets come from the model, from the
 * `base` of an expression and from earlier results' `__path__`, a few per member; past this many the
 * step is still worked out, but not kept (the base can be the caller's text).
 */
const PATHS_KEPT = 64;

/** The steps of one member name (`key`) from every parent path it meets. */
export class MemberSteps {
  /** The step from a parent without a path: values typed by nothing (fhirpath.js's makeChildResNodes). */
  readonly untyped: ChildStep;
  private readonly byParent = new Map<string, ChildStep>();

  constructor(readonly key: string) {
    this.untyped = {
      fields: [key],
      extensionFields: [`_${key}`],
      paths: [null],
      types: [null],
      positions: undefined,
    };
  }

  /** The last parent path asked for and its step: a member mostly meets one parent type. */
  private lastPath: string | undefined;
  private lastStep: ChildStep | undefined;

  /** The step from a parent whose fhirpath.js path is `parentPath` (not null or empty). */
  from(parentPath: string): ChildStep {
    if (parentPath === this.lastPath) {
      return this.lastStep!;
    }
    let step = this.byParent.get(parentPath);
    if (step === undefined) {
      step = childStep(parentPath, this.key);
      if (this.byParent.size < PATHS_KEPT) {
        this.byParent.set(parentPath, step);
      }
    }
    this.lastPath = parentPath;
    this.lastStep = step;
    return step;
  }
}

/** fhirpath.js's makeChildResNodes: the child path, its choice types, and each one's typing. */
export function childStep(parentPath: string, key: string): ChildStep {
  const lookupKey = `${parentPath}.${key}`;
  const path = model.pathsDefinedElsewhere[lookupKey] ?? lookupKey;
  const choices = model.choiceTypePaths[path];
  if (choices) {
    const fields = choices.map((suffix) => key + suffix);
    const typed = choices.map((suffix) => typing(path + suffix));
    const extensionFields = fields.map((field) => `_${field}`);
    const positions = new Map<string, number>();
    fields.forEach((field, i) => positions.set(field, i).set(extensionFields[i]!, i));
    return {
      fields,
      extensionFields,
      paths: typed.map((t) => t.path),
      types: typed.map((t) => t.type),
      positions: fields.length > 1 ? positions : undefined,
    };
  }
  const typed = typing(key === 'extension' ? 'Extension' : path);
  return {
    fields: [key],
    extensionFields: [`_${key}`],
    paths: [typed.path],
    types: [typed.type],
    positions: undefined,
  };
}

function typing(path: string): { path: string; type: string | null } {
  return { path: model.path2TypeWithoutElements[path] ?? path, type: model.path2Type[path] ?? null };
}
