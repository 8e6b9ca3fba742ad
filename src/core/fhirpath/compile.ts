import { compile, parse } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { MemberSteps } from './navigate';

/**
 * A compiler from fhirpath.js's parse tree to JavaScript closures, for the constructs the shipped
 * content and the R4 and profile invariants use most (issue 13, lever 1). fhirpath.js interprets the
 * tree on every call (a context clone per sub-expression, a table lookup per node); a closure does
 * the same work once per node.
 *
 * The closures are exact or they step aside: anything this compiler does not know is either refused
 * when compiling (the caller then uses fhirpath.js for that expression) or, when it depends on the
 * data, abandons the evaluation with {@link BAIL} so that the caller runs fhirpath.js on the same
 * input. The closures reproduce fhirpath.js 5's semantics, not only the specification's, including its
 * quirks (operands evaluated against `$this`, `where()` keeping items whose criterion is any truthy
 * value, both sides of `and`/`or` evaluated). test/core/fhirpath/ compares them with fhirpath.js.
 */

/** Thrown (never seen by callers of the compiled expression) when the data leaves the compiled subset. */
export const BAIL: unique symbol = Symbol('fhirpath-compile-bail');

/**
 * Thrown instead of returning an object a closure may not return (not plain JSON, or any object for
 * template values, which fhirpath.js copies): fhirpath.js answers that expression from then on.
 */
export const RETURNS_OBJECTS: unique symbol = Symbol('fhirpath-compile-objects');

/** A value read from the input with its FHIR type: fhirpath.js's ResourceNode, reduced to what we use. */
class Node {
  /** The ResourceNode this node came from, or was turned into (see {@link toResourceNode}). */
  rn: object | undefined;
  constructor(
    readonly data: unknown,
    /** fhirpath.js's `path`: the element path, or the type name for elements of a named type. */
    readonly path: string | null,
    /** fhirpath.js's `fhirNodeDataType`. */
    readonly type: string | null,
    /** The node it was read from (a Node, or a ResourceNode of fhirpath.js), null at a root. */
    readonly parent: unknown = null,
    /** fhirpath.js's `propName` and `index`: the element name and position it was read from. */
    readonly prop: string | null = null,
    readonly index: number | null = null
  ) {}
}

/** An item of a collection: a Node, or a System value (boolean, string, number) made by the expression. */
type Item = unknown;
type Collection = Item[];

interface Run {
  readonly root: Collection;
  readonly env: Record<string, unknown>;
  /**
   * `%name` values converted once per evaluation, by the name's slot (see {@link variableSlot}); made
   * on the first `%name`: an array of the expression's few names, not a Map per call.
   */
  vars: (Collection | undefined)[] | undefined;
  /** How many variable slots the expression has. */
  readonly variableCount: number;
  /** Results of the expression's focus-free sub-expressions, by slot (see {@link memoized}). */
  memo: (Collection | undefined)[] | undefined;
  /** How many slots the expression has. */
  readonly slotCount: number;
}

interface Scope {
  readonly run: Run;
  /** `$this`: at the top level the root, as fhirpath.js uses it there. */
  readonly self: Collection;
}

/** A compiled sub-expression: the input collection and the scope in, a collection out. */
type Eval = (input: Collection, scope: Scope) => Collection;

/** A compiled expression: the context and `%variables` in, plain results out (or {@link BAIL}). */
export type FastFhirPath = (context: unknown, env: Record<string, unknown>) => unknown[];

/**
 * fhirpath.js's ResourceNode class (not exported): the typed results of a nodes-mode evaluation,
 * which template extraction passes back as contexts and variables. Taken from a result, so it is the
 * class of the very fhirpath.js module (CommonJS or ESM) this module uses.
 */
const sample = (
  compile('id', r4, { resolveInternalTypes: false })({
    resourceType: 'Basic',
    id: 'x',
  }) as ResourceNodeShape[]
)[0]!;
const ResourceNode = sample.constructor as unknown as {
  makeResNode(
    ctx: unknown,
    data: unknown,
    parent: unknown,
    path: string | null,
    _data: unknown,
    type: string | null,
    prop: string | null,
    index: number | null
  ): ResourceNodeShape;
};
/**
 * What a ResourceNode keeps of its evaluation context: the model and the decimal factory (its own
 * conversions use them). Every evaluation with the R4 model has the same; this is one of them.
 */
const NODE_CONTEXT = sample.ctx;

interface ResourceNodeShape {
  readonly data: unknown;
  readonly _data: unknown;
  readonly path: string | null;
  readonly fhirNodeDataType: string | null;
  readonly parentResNode: unknown;
  readonly propName: string | null;
  readonly index: number | null;
  readonly ctx: unknown;
}

/** A node as fhirpath.js's ResourceNode, with its ancestors (made once per node). */
function toResourceNode(node: Node): ResourceNodeShape {
  node.rn ??= ResourceNode.makeResNode(
    NODE_CONTEXT,
    node.data,
    node.parent instanceof Node ? toResourceNode(node.parent) : node.parent,
    node.path,
    null,
    node.type,
    node.prop,
    node.index
  );
  return node.rn as ResourceNodeShape;
}

/** A ResourceNode as a Node, when it holds plain JSON without primitive extensions. */
function fromResourceNode(value: ResourceNodeShape): Node {
  const data = value.data;
  if (
    value._data !== null ||
    (typeof data === 'object' && data !== null && !isPlainObject(data)) ||
    typeof data === 'number' ||
    typeof data === 'bigint'
  ) {
    throw BAIL; // primitive extensions, or fhirpath.js's own decimal and date objects
  }
  const node = new Node(
    data,
    value.path,
    value.fhirNodeDataType,
    value.parentResNode,
    value.propName,
    value.index
  );
  node.rn = value;
  return node;
}

/** fhirpath.js converts these primitive types to its own date and time classes before comparing. */
const DATE_TYPES = new Set(['date', 'dateTime', 'instant', 'time']);

/** The model tables fhirpath.js navigates with (the same R4 model object). */
interface Model {
  readonly pathsDefinedElsewhere: Record<string, string | undefined>;
  readonly type2Parent: Record<string, string | undefined>;
  readonly path2Type: Record<string, string | undefined>;
  readonly availableTypes: Set<string>;
}
const model = r4 as unknown as Model;

/** A parse-tree node of fhirpath.js. */
interface AstNode {
  readonly type: string;
  readonly text?: string;
  readonly delimitedText?: string;
  readonly atRoot?: number;
  readonly children?: AstNode[];
}

/** Refused at compile time: the expression uses something outside the compiled subset. */
class Unsupported extends Error {}

/**
 * Compiles an expression, or returns undefined when it uses anything outside the compiled subset.
 * `base` is the FHIR path of a context that is not a resource, as for fhirpath.js's compile().
 */
/**
 * How results are returned: plain (fhirpath.js's resolveInternalTypes, objects marked with their
 * type), values (plain, for template values: no objects), nodes (fhirpath.js's ResourceNodes).
 */
export type FastOutput = 'plain' | 'values' | 'nodes';

export function compileFast(
  expression: string,
  base?: string,
  output: FastOutput = 'plain'
): FastFhirPath | undefined {
  let body: Eval;
  let raw: RawEval | undefined;
  let slotCount = 0;
  let variableCount = 0;
  slots = new Map();
  variableSlots = new Map();
  perItemDepth = 0;
  try {
    const tree = parse(expression) as AstNode;
    occurrences = new Map();
    countOccurrences(tree, occurrences);
    body = compileNode(tree);
    // Decided once per expression: plain values of a trailing member chain need no nodes.
    raw = output === 'nodes' ? undefined : compileRawValues(tree);
    slotCount = slots.size;
    variableCount = variableSlots.size;
  } catch (err) {
    if (err instanceof Unsupported) {
      return undefined;
    }
    // A syntax error: fhirpath.js reports it, in its words.
    return undefined;
  } finally {
    slots = undefined;
    variableSlots = undefined;
    occurrences = undefined;
  }
  const baseInfo = base ? resolveBase(base) : undefined;
  return (context, env) => {
    const root = rootCollection(context, baseInfo);
    const run: Run = { root, env, vars: undefined, variableCount, memo: undefined, slotCount };
    const scope: Scope = { run, self: root };
    if (raw !== undefined) {
      const values = raw(root, scope);
      if (values !== undefined) {
        return values;
      }
      // An object among the values: the general closure answers (it marks or refuses objects),
      // from now on, as this expression's values are likely to be objects again.
      raw = undefined;
    }
    const result = body(root, scope);
    return output === 'nodes' ? toNodes(result) : toPlain(result, output === 'plain');
  };
}

/** fhirpath.js's base path handling (its compile() with `{ base, expression }`), done once. */
function resolveBase(base: string): { path: string; type: string | undefined; prop: string } {
  let basePath = base.replace(/\[\d*]/g, '');
  const elsewhere = Object.keys(model.pathsDefinedElsewhere);
  for (;;) {
    const prefix = elsewhere.find((p) => basePath.startsWith(p));
    if (prefix === undefined) {
      break;
    }
    basePath = model.pathsDefinedElsewhere[prefix] + basePath.substring(prefix.length);
  }
  basePath = model.pathsDefinedElsewhere[basePath] ?? basePath;
  const type = model.availableTypes.has(basePath) ? basePath : model.path2Type[basePath];
  const path = type === 'BackboneElement' || type === 'Element' ? basePath : (type ?? basePath);
  return { path, type, prop: base };
}

function rootCollection(
  context: unknown,
  base: { path: string; type: string | undefined; prop: string } | undefined
): Collection {
  if (context === null || context === undefined) {
    return [];
  }
  if (!Array.isArray(context)) {
    return [rootItem(context, base)];
  }
  const items: Collection = [];
  for (let i = 0; i < context.length; i++) {
    items.push(rootItem(context[i], base));
  }
  return items;
}

function rootItem(
  item: unknown,
  base: { path: string; type: string | undefined; prop: string } | undefined
): Item {
  // fhirpath.js keeps a ResourceNode context as it is, whatever the base.
  return base && !(item instanceof sample.constructor)
    ? makeNode(item, base.path, base.type ?? null, null, base.prop)
    : typedInput(item, true);
}

/**
 * An input value as fhirpath.js types it: by its hidden `__path__` (an earlier result), or its
 * resourceType. As a root it keeps the `__path__`'s name and position; as a variable it does not.
 */
function typedInput(value: unknown, root = false): Item {
  if (value !== null && typeof value === 'object') {
    if (value instanceof sample.constructor) {
      return fromResourceNode(value as unknown as ResourceNodeShape);
    }
    if (!isPlainObject(value)) {
      throw BAIL; // fhirpath.js's own classes (ResourceNode, FP_Type): not modelled here
    }
    const meta = (value as { __path__?: PathMeta }).__path__;
    if (meta) {
      return root
        ? makeNode(value, meta.path, meta.fhirNodeDataType, meta.parentResNode, meta.propName, meta.index)
        : makeNode(value, meta.path, meta.fhirNodeDataType, meta.parentResNode);
    }
    const resourceType = (value as { resourceType?: unknown }).resourceType;
    if (resourceType) {
      return makeNode(value, null, null);
    }
  }
  return value;
}

/** The hidden `__path__` fhirpath.js puts on the objects it returns. */
interface PathMeta {
  readonly ctx: unknown;
  readonly path: string | null;
  readonly fhirNodeDataType: string | null;
  readonly parentResNode: unknown;
  readonly propName: string | null;
  readonly index: number | null;
}

/** ResourceNode's constructor: a resource names its own type. */
function makeNode(
  data: unknown,
  path: string | null | undefined,
  type: string | null | undefined,
  parent: unknown = null,
  prop: string | null = null,
  index: number | null = null
): Node {
  const resourceType = (data as { resourceType?: unknown } | null)?.resourceType;
  if (resourceType) {
    return new Node(
      data,
      resourceType as string,
      resourceType as string,
      parent ?? null,
      prop ?? null,
      index ?? null
    );
  }
  if (type === 'integer64') {
    throw BAIL;
  }
  return new Node(data, path || null, type || null, parent ?? null, prop ?? null, index ?? null);
}

/**
 * fhirpath.js marks each object it returns with its type and lineage, a hidden, permanent
 * `__path__` that later evaluations read (a result passed back as a variable keeps its type);
 * as its prepareEvalResult, so that either engine may see the object next.
 */
function markPath(node: Node): void {
  const data = node.data as { __path__?: unknown };
  const rn = node.rn as ResourceNodeShape | undefined;
  const path = rn ? rn.path : node.path;
  if (path && !data.__path__) {
    Object.defineProperty(data, '__path__', {
      value: rn
        ? {
            ctx: rn.ctx,
            path,
            fhirNodeDataType: rn.fhirNodeDataType,
            parentResNode: rn.parentResNode,
            propName: rn.propName,
            index: rn.index,
          }
        : {
            ctx: NODE_CONTEXT,
            path,
            fhirNodeDataType: node.type,
            parentResNode: node.parent instanceof Node ? toResourceNode(node.parent) : node.parent,
            propName: node.prop,
            index: node.index,
          },
    });
  }
}

/** Results as typed nodes, as fhirpath.js returns them without resolveInternalTypes. */
function toNodes(result: Collection): unknown[] {
  return result
    .map((item) => {
      if (item instanceof Node) {
        return toResourceNode(item);
      }
      if (item instanceof NumberLiteral || (typeof item === 'object' && item !== null)) {
        throw BAIL; // a decimal object, or a raw object fhirpath.js would hand back untouched
      }
      return item;
    })
    .filter((item) => item !== null && item !== undefined);
}

/** fhirpath.js's valData: the value inside a node. */
function valueOf(item: Item): unknown {
  return item instanceof Node ? item.data : item;
}

/** Plain results, as fhirpath.js returns them with resolveInternalTypes. */
function toPlain(result: Collection, markObjects: boolean): unknown[] {
  const out: unknown[] = [];
  for (const item of result) {
    const value = item instanceof NumberLiteral ? item.value : valueOf(item);
    if (value !== null && typeof value === 'object') {
      if (!markObjects || !(item instanceof Node) || !isPlainObject(value)) {
        throw RETURNS_OBJECTS; // not plain JSON: fhirpath.js answers
      }
      markPath(item);
    }
    if (value !== null && value !== undefined) {
      out.push(value);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Focus-free sub-expressions, evaluated once per call.

/**
 * The memo slots of the expression being compiled, by the structure of the sub-expression (equal
 * sub-expressions share a slot); undefined outside {@link compileFast}.
 */
let slots: Map<string, number> | undefined;

/**
 * How often each focus-free sub-expression worth a slot occurs in the expression being compiled, by
 * {@link structureKey}; undefined outside {@link compileFast}.
 */
let occurrences: Map<string, number> | undefined;

function countOccurrences(node: AstNode, counts: Map<string, number>): void {
  if (MEMO_TYPES.has(node.type) && isFocusFree(node)) {
    const key = structureKey(node);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const child of node.children ?? []) {
    countOccurrences(child, counts);
  }
}

/**
 * How many arguments evaluated once per item (`where()`, `select()`, `exists()`, `all()`) enclose the
 * node being compiled. Only there, or where the same sub-expression occurs twice, can a focus-free
 * sub-expression run more than once in a call; elsewhere it runs at most once, and a memo slot would
 * only cost its look-up and the memo array.
 */
let perItemDepth = 0;

/** An argument evaluated once per item of its receiver: its focus-free parts get memo slots. */
function compilePerItem(arg: AstNode): Eval {
  perItemDepth++;
  try {
    return compileNode(arg);
  } finally {
    perItemDepth--;
  }
}

/** Sub-expressions worth a slot: operators and invocations (literals and `%name` cost nothing). */
const MEMO_TYPES = new Set([
  'InvocationExpression',
  'FunctionInvocation',
  'EqualityExpression',
  'InequalityExpression',
  'AndExpression',
  'OrExpression',
  'ImpliesExpression',
  'XorExpression',
  'MembershipExpression',
  'AdditiveExpression',
  'UnionExpression',
]);

/**
 * A focus-free sub-expression (see {@link isFocusFree}) reads only `%variables`, `%context` and
 * literals, which are fixed for one call: its result is the same wherever and however often it is
 * evaluated in that call (in `where()` once per item, say), so the first evaluation is kept in the
 * call's memo: inside a per-item argument (see {@link perItemDepth}), or when it occurs more than
 * once. Evaluated lazily where it first occurs, so an error or a hand-over (BAIL) happens at the
 * same point as before, and a branch never taken is never evaluated. Results are shared, as
 * `%variable` results already are: no closure changes a collection it is given.
 */
function memoized(node: AstNode, key: string): Eval {
  let slot = slots!.get(key);
  if (slot === undefined) {
    slot = slots!.size;
    slots!.set(key, slot);
  }
  const index = slot;
  const inner = compileNodeAfresh(node);
  return (input, scope) => {
    const run = scope.run;
    // Made full (not holey) on the first use: most calls of most expressions never need it.
    const memo = (run.memo ??= emptyMemo(run.slotCount));
    let result = memo[index];
    if (result === undefined) {
      result = inner(input, scope);
      memo[index] = result;
    }
    return result;
  };
}

/**
 * A memo of `count` empty slots, filled by push: a packed array, without the builtin call that
 * `new Array(count).fill()` costs for the few slots an expression has.
 */
function emptyMemo(count: number): (Collection | undefined)[] {
  const memo: (Collection | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    memo.push(undefined);
  }
  return memo;
}

/** The whole structure of a parse tree as text: equal keys, equal sub-expressions. */
function structureKey(node: AstNode): string {
  let key = `${node.type}|${node.text ?? ''}|${node.delimitedText ?? ''}|${node.atRoot ?? ''}(`;
  for (const child of node.children ?? []) {
    key += structureKey(child) + ',';
  }
  return key + ')';
}

const focusFree = new WeakMap<AstNode, boolean>();

/**
 * Whether a sub-expression's result does not depend on its input or `$this` (the focus), only on
 * `%variables`, `%context` and literals: no member, `$this` or function at its head (they read the
 * focus), except `iif()` whose arguments are all focus-free; operators whose operands are all
 * focus-free; and an invocation on a focus-free receiver whose arguments cannot read the outer
 * focus (`where()`, `select()`, `exists()`, `all()` and a received `iif()` evaluate theirs against
 * the receiver; value parameters such as `startsWith(x)` are evaluated against `$this`, so they must
 * be focus-free themselves). Anything not known here is not focus-free.
 */
function isFocusFree(node: AstNode): boolean {
  let free = focusFree.get(node);
  if (free === undefined) {
    free = computeFocusFree(node);
    focusFree.set(node, free);
  }
  return free;
}

function computeFocusFree(node: AstNode): boolean {
  const children = node.children ?? [];
  switch (node.type) {
    case 'EntireExpression':
    case 'TermExpression':
    case 'InvocationTerm':
    case 'ParenthesizedTerm':
      return children.length === 1 && isFocusFree(children[0]!);
    case 'LiteralTerm':
    case 'ExternalConstantTerm':
      return true;
    case 'FunctionInvocation': {
      // At the head: the function's input is the focus; only iif() does not read it.
      const { name, args } = functionParts(node);
      return name === 'iif' && args.every(isFocusFree);
    }
    case 'InvocationExpression': {
      const [receiver, invocation] = children;
      if (!receiver || !invocation || !isFocusFree(receiver)) {
        return false;
      }
      if (invocation.type === 'MemberInvocation') {
        return true;
      }
      if (invocation.type !== 'FunctionInvocation') {
        return false;
      }
      const { name, args } = functionParts(invocation);
      return RECEIVER_SCOPED.has(name ?? '') || args.every(isFocusFree);
    }
    case 'EqualityExpression':
    case 'InequalityExpression':
    case 'AndExpression':
    case 'OrExpression':
    case 'ImpliesExpression':
    case 'XorExpression':
    case 'MembershipExpression':
    case 'AdditiveExpression':
    case 'UnionExpression':
      return children.length === 2 && children.every(isFocusFree);
    default:
      return false;
  }
}

/** Functions whose arguments are evaluated against the receiver's items or the receiver itself. */
const RECEIVER_SCOPED = new Set(['where', 'select', 'exists', 'all', 'iif', 'ofType']);

function functionParts(invocation: AstNode): { name: string | undefined; args: AstNode[] } {
  const [ident, params] = invocation.children?.[0]?.children ?? [];
  return { name: ident?.text, args: params?.children ?? [] };
}

// ---------------------------------------------------------------------------------------------
// The compiler proper: one case per parse-tree node type.

function compileNode(node: AstNode): Eval {
  if (slots !== undefined && MEMO_TYPES.has(node.type) && isFocusFree(node)) {
    const constant = readsVariables(node) ? undefined : folded(node);
    if (constant !== undefined) {
      return constant;
    }
    const key = structureKey(node);
    if (perItemDepth > 0 || (occurrences?.get(key) ?? 0) > 1) {
      return memoized(node, key);
    }
  }
  return compileNodeAfresh(node);
}

/**
 * A focus-free sub-expression of literals alone (`'a' | 'b' | 'c'`, `'x' + 'y'`): the same result in
 * every call, so it is evaluated once, when compiling, and shared (no closure changes a collection it
 * is given). Undefined when that evaluation hands over: it then runs in each call as before, so the
 * hand-over (fhirpath.js's answer or error) stays where it was.
 */
function folded(node: AstNode): Eval | undefined {
  const inner = compileNodeAfresh(node);
  const run: Run = {
    root: EMPTY,
    env: NO_ENV,
    vars: undefined,
    variableCount: 0,
    memo: undefined,
    slotCount: slots!.size,
  };
  let value: Collection;
  try {
    value = inner(EMPTY, { run, self: EMPTY });
  } catch {
    return undefined;
  }
  return () => value;
}

/** No variables at compile time: {@link folded} runs with none (any `%name` would hand over). */
const NO_ENV: Record<string, unknown> = Object.freeze({});

/** Whether a sub-expression reads a `%variable` (or `%context`). */
function readsVariables(node: AstNode): boolean {
  return node.type === 'ExternalConstantTerm' || (node.children ?? []).some(readsVariables);
}

function compileNodeAfresh(node: AstNode): Eval {
  const children = node.children ?? [];
  switch (node.type) {
    case 'EntireExpression':
    case 'TermExpression':
    case 'InvocationTerm':
    case 'ParenthesizedTerm':
      if (children.length !== 1) {
        throw new Unsupported(node.type);
      }
      return compileNode(children[0]!);
    case 'InvocationExpression': {
      const fused =
        compileCountedWhere(children[0]!, children[1]!) ??
        compileMemberWhere(children[0]!, children[1]!) ??
        compileVariableWhere(children[0]!, children[1]!) ??
        compileChainCount(children[0]!, children[1]!);
      if (fused) {
        return fused;
      }
      const first = compileNode(children[0]!);
      const next = compileNode(children[1]!);
      return (input, scope) => next(first(input, scope), scope);
    }
    case 'LiteralTerm':
      return compileLiteral(children[0]);
    case 'ExternalConstantTerm':
      return compileVariable(node);
    case 'MemberInvocation':
      return compileMember(node);
    case 'ThisInvocation':
      return (_input, scope) => scope.self;
    case 'FunctionInvocation':
      return compileFunction(children[0]!);
    case 'EqualityExpression':
      return compileEquality(node);
    case 'InequalityExpression':
      return compileComparison(node);
    case 'AndExpression':
    case 'OrExpression':
    case 'ImpliesExpression':
    case 'XorExpression':
      return compileLogic(node);
    case 'MembershipExpression':
      return compileMembership(node);
    case 'AdditiveExpression':
      return compileAdditive(node);
    case 'UnionExpression':
      return compileUnion(node);
    default:
      throw new Unsupported(node.type);
  }
}

function compileLiteral(term: AstNode | undefined): Eval {
  if (!term) {
    throw new Unsupported('literal');
  }
  const text = term.text ?? '';
  switch (term.type) {
    // One collection per literal, shared by every evaluation: no closure changes a collection it is
    // given (each builds its own result), as `%variable` results are shared too.
    case 'StringLiteral': {
      const value = [parseString(text)];
      return () => value;
    }
    case 'BooleanLiteral': {
      const value = [text === 'true'];
      return () => value;
    }
    case 'NumberLiteral': {
      // fhirpath.js makes a decimal object (parseFloat of the text), returned as this number.
      const value = Number(text);
      if (!Number.isFinite(value) || value !== parseFloat(text)) {
        throw new Unsupported('number literal');
      }
      const literal = [new NumberLiteral(value)];
      return () => literal;
    }
    case 'NullLiteral': {
      const empty: Collection = [];
      return () => empty;
    }
    default:
      throw new Unsupported(term.type);
  }
}

/**
 * A number literal. fhirpath.js holds literals (and numbers read from the data) as decimal objects:
 * truthy in `where()`, compared after rounding; so they are kept apart from count() results.
 */
class NumberLiteral {
  constructor(readonly value: number) {}
}

/** A string literal's value: quotes removed, escapes resolved (fhirpath.js accepts exactly these). */
function parseString(text: string): string {
  const inner = text.slice(1, -1);
  if (!inner.includes('\\')) {
    return inner;
  }
  throw new Unsupported('string escapes');
}

function compileVariable(node: AstNode): Eval {
  // %`name` (fhirpath.js hands over the text inside the backticks); %'name' has escapes.
  const name = node.delimitedText ?? node.text;
  if (!name || /^'.*'$/.test(name)) {
    throw new Unsupported('variable name');
  }
  const slot = variableSlot(name);
  return (_input, scope) => variable(scope.run, name, slot);
}

/**
 * The variable slots of the expression being compiled, by name; undefined outside
 * {@link compileFast}.
 */
let variableSlots: Map<string, number> | undefined;

/** The slot of `%name` in its call's {@link Run.vars}: one per distinct name in the expression. */
function variableSlot(name: string): number {
  let slot = variableSlots!.get(name);
  if (slot === undefined) {
    slot = variableSlots!.size;
    variableSlots!.set(name, slot);
  }
  return slot;
}

function variable(run: Run, name: string, slot: number): Collection {
  const cached = run.vars?.[slot];
  if (cached !== undefined) {
    return cached;
  }
  let value: Collection;
  if (name in run.env) {
    const raw = run.env[name];
    if (typeof raw === 'function') {
      throw BAIL;
    }
    if (raw === undefined || raw === null) {
      value = [];
    } else if (!Array.isArray(raw)) {
      value = [typedInput(raw)];
    } else {
      value = [];
      for (let i = 0; i < raw.length; i++) {
        value.push(typedInput(raw[i]));
      }
    }
  } else if (name === 'context') {
    value = run.root;
  } else if (name === 'ucum') {
    value = ['http://unitsofmeasure.org'];
  } else {
    throw BAIL; // fhirpath.js's other variables, or its error for an unknown one
  }
  (run.vars ??= emptyMemo(run.variableCount))[slot] = value;
  return value;
}

function isTypeName(name: string): boolean {
  return /^[A-Z]/.test(name) || model.availableTypes.has(name) || name in model.type2Parent;
}

/** A member step as compiled: its table of child steps, and whether fhirpath.js first tests a type. */
interface Member {
  readonly steps: MemberSteps;
  /** At the root of an expression or argument, with a name that is also a type's (`code`, `string`…). */
  readonly typeTest: boolean;
}

function memberOf(node: AstNode): Member {
  const ident = node.children?.[0];
  if (ident?.type !== 'Identifier' || !ident.text || ident.text.startsWith('`')) {
    throw new Unsupported('member');
  }
  const key = ident.text;
  if (/^[A-Z]/.test(key)) {
    // `Patient.name` or `ofType(Patient)`-like type tests: fhirpath.js's type system.
    throw new Unsupported('type name');
  }
  // At the root of an expression or argument fhirpath.js first tests whether the item is of a type
  // named `key`; an element with an object value never is one.
  return { steps: new MemberSteps(key), typeTest: node.atRoot !== undefined && isTypeName(key) };
}

function compileMember(node: AstNode): Eval {
  const { steps, typeTest } = memberOf(node);
  return (input) => {
    const out: Collection = [];
    for (const item of input) {
      if (typeTest) {
        typeTestHolds(item);
      }
      children(item, steps, out);
    }
    return out;
  };
}

/** An item whose value is not an object may be of the type the member names: fhirpath.js decides. */
function typeTestHolds(item: Item): void {
  const value = valueOf(item);
  if (typeof value !== 'object' || value === null) {
    throw BAIL;
  }
}

/**
 * What {@link readChild} found: the child's JSON value (an array for a repeating element) and
 * fhirpath.js's path and type for it. Module state, read right after the call (no allocation per step).
 */
let foundValue: unknown;
let foundPath: string | null = null;
let foundType: string | null = null;

/**
 * fhirpath.js's makeChildResNodes up to the value: false when the item has no such child; true with
 * the child in {@link foundValue}, {@link foundPath} and {@link foundType}. Hands over primitive
 * extensions and members of anything but a JSON object.
 */
function readChild(item: Item, steps: MemberSteps): boolean {
  if (item === null || item === undefined) {
    return false;
  }
  // Items that are not nodes were typed when they entered (root, variables): these are untyped.
  const node = item instanceof Node ? item : null;
  return readChildAt(node ? node.data : item, node?.path ?? null, steps);
}

/** {@link readChild} of a value whose node (fhirpath.js path `parentPath`) is not made. */
function readChildAt(data: unknown, parentPath: string | null, steps: MemberSteps): boolean {
  if (typeof data !== 'object' || data === null || !isPlainObject(data)) {
    throw BAIL; // a member of a primitive, or of one of fhirpath.js's own objects
  }
  const record = data as Record<string, unknown>;
  const step = parentPath ? steps.from(parentPath) : steps.untyped;
  const fields = step.fields;
  const positions = step.positions;
  if (positions !== undefined && Object.getPrototypeOf(record) === Object.prototype) {
    // A choice element of a JSON object: the first choice (in the model's order, as the probing
    // below) among the object's own keys. A JSON object has only own enumerable keys, and no
    // choice's name is an Object.prototype member, so this finds what probing would.
    let first = -1;
    for (const name in record) {
      const i = positions.get(name);
      if (i !== undefined && (first < 0 || i < first) && record[name] !== undefined) {
        first = i;
      }
    }
    if (first < 0) {
      return false;
    }
    if (record[step.extensionFields[first]!] !== undefined) {
      throw BAIL;
    }
    const value = record[fields[first]!];
    if (value === null) {
      return false;
    }
    foundValue = value;
    foundPath = step.paths[first]!;
    foundType = step.types[first]!;
    return true;
  }
  for (let i = 0; i < fields.length; i++) {
    const value = record[fields[i]!];
    const extension = record[step.extensionFields[i]!];
    if (value !== undefined || extension !== undefined) {
      if (extension !== undefined) {
        throw BAIL;
      }
      if (value === null) {
        return false;
      }
      foundValue = value;
      foundPath = step.paths[i]!;
      foundType = step.types[i]!;
      return true;
    }
  }
  return false;
}

/** fhirpath.js's makeChildResNodes for data without primitive extensions. */
function children(item: Item, steps: MemberSteps, out: Collection): void {
  if (!readChild(item, steps)) {
    return;
  }
  const value = foundValue;
  const childPath = foundPath;
  const childType = foundType;
  const parent = item instanceof Node ? item : new Node(item, null, null);
  const key = steps.key;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const element: unknown = value[index];
      if (element === null || element === undefined) {
        throw BAIL;
      }
      out.push(makeNode(element, childPath, childType, parent, key, index));
    }
    return;
  }
  out.push(makeNode(value, childPath, childType, parent, key));
}

// ---------------------------------------------------------------------------------------------
// The raw tier: member chains read on the JSON, without a node per value.

/**
 * A chain `head.m1.m2…` (or `m1.m2…` read from the input) whose values are only counted, compared
 * or returned as plain primitives: nothing downstream needs their FHIR type or lineage, so each
 * step reads the JSON with the parent's fhirpath.js path as a string, and no node or collection is
 * made per step. Same reads, same typing, same hand-overs as {@link children} step by step.
 */
interface Chain {
  /** The receiver, compiled as usual (memoized when focus-free); undefined: the input itself. */
  readonly head: Eval | undefined;
  readonly members: readonly Member[];
}

/** The chain an expression ends with, when it ends with at least one member step. */
function memberChain(node: AstNode): Chain | undefined {
  const { members, head } = chainParts(node);
  if (members.length === 0) {
    return undefined;
  }
  // Throws Unsupported for what compileMember refuses, before the head is compiled.
  const compiledMembers = members.map(memberOf);
  return { head: head && compileNode(head), members: compiledMembers };
}

/** The member steps an expression ends with, and what they read from (undefined: the input). */
function chainParts(node: AstNode): { members: AstNode[]; head: AstNode | undefined } {
  const members: AstNode[] = [];
  let current: AstNode = node;
  let head: AstNode | undefined;
  for (;;) {
    if (current.type === 'InvocationExpression' && current.children?.length === 2) {
      const last = current.children[1]!;
      if (last.type !== 'MemberInvocation') {
        head = current;
        break;
      }
      members.unshift(last);
      current = current.children[0]!;
      continue;
    }
    const term = unwrap(current, ['TermExpression', 'InvocationTerm', 'MemberInvocation']);
    if (term) {
      members.unshift(term);
    } else {
      head = current;
    }
    break;
  }
  return { members, head };
}

/**
 * What {@link walkChain} found: how many values, the first with fhirpath.js's path for it, and
 * (when asked) the values themselves unless one is an object. Module state, read right after the
 * walk, which evaluates no sub-expression while it runs.
 */
let rawCount = 0;
let rawFirst: unknown;
let rawFirstPath: string | null = null;
let rawFirstType: string | null = null;
let rawValues: unknown[] | undefined;
let rawObject = false;

/** Walks `chain` from the receiver's items (or `input`), filling the raw tier's state. */
function walkChain(chain: Chain, input: Collection, scope: Scope, collect: boolean): void {
  const items = chain.head ? chain.head(input, scope) : input;
  resetRaw(collect);
  const members = chain.members;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (members[0]!.typeTest) {
      typeTestHolds(item);
    }
    if (item === null || item === undefined) {
      continue; // readChild() of nothing
    }
    if (item instanceof Node) {
      walkFrom(item.data, item.path, members, 0);
    } else {
      walkFrom(item, null, members, 0);
    }
  }
}

function resetRaw(collect: boolean): void {
  rawCount = 0;
  rawFirst = undefined;
  rawFirstPath = null;
  rawFirstType = null;
  rawValues = collect ? [] : undefined;
  rawObject = false;
}

/** {@link children} of one value at step `at`, then the next steps from each child found. */
function walkFrom(data: unknown, path: string | null, members: readonly Member[], at: number): void {
  if (!readChildAt(data, path, members[at]!.steps)) {
    return;
  }
  const value = foundValue;
  const childPath = foundPath;
  const childType = foundType;
  if (!Array.isArray(value)) {
    walkValue(value, childPath, childType, members, at);
    return;
  }
  for (let index = 0; index < value.length; index++) {
    walkValue(value[index], childPath, childType, members, at);
  }
}

function walkValue(
  element: unknown,
  childPath: string | null,
  childType: string | null,
  members: readonly Member[],
  at: number
): void {
  if (element === null || element === undefined) {
    throw BAIL; // as children()
  }
  // makeNode()'s typing of the element, without the node (a primitive has no resourceType)
  const resourceType =
    typeof element === 'object' ? (element as { resourceType?: unknown }).resourceType : undefined;
  if (!resourceType && childType === 'integer64') {
    throw BAIL;
  }
  const next = at + 1;
  if (next < members.length) {
    if (members[next]!.typeTest && typeof element !== 'object') {
      throw BAIL; // typeTestHolds()
    }
    walkFrom(element, resourceType ? (resourceType as string) : childPath || null, members, next);
    return;
  }
  if (rawCount++ === 0) {
    rawFirst = element;
    rawFirstPath = childPath;
    rawFirstType = childType;
  }
  if (rawValues !== undefined) {
    if (typeof element === 'object') {
      rawObject = true;
    } else {
      rawValues.push(element);
    }
  }
}

/** The root's plain values, or undefined when the general closure must answer. */
type RawEval = (root: Collection, scope: Scope) => unknown[] | undefined;

/**
 * An expression that ends with member steps, evaluated for plain results: its values as read from
 * the JSON, as {@link toPlain} would return them; undefined (the general closure answers, and marks
 * or refuses objects) when a value is an object.
 */
function compileRawValues(tree: AstNode): RawEval | undefined {
  let expression = tree; // fhirpath.js nests EntireExpression twice
  while (expression.type === 'EntireExpression' && expression.children?.length === 1) {
    expression = expression.children[0]!;
  }
  let chain: Chain | undefined;
  try {
    chain = memberChain(expression);
  } catch (err) {
    if (err instanceof Unsupported) {
      return undefined;
    }
    throw err;
  }
  if (!chain) {
    return undefined;
  }
  const walked = chain;
  return (root, scope) => {
    walkChain(walked, root, scope, true);
    return rawObject ? undefined : rawValues;
  };
}

/** `chain.exists()`, `chain.empty()`, `chain.count()`: only how many values the chain reaches. */
function compileChainCount(receiver: AstNode, invocation: AstNode): Eval | undefined {
  if (invocation.type !== 'FunctionInvocation') {
    return undefined;
  }
  const { name, args } = functionParts(invocation);
  if (args.length !== 0 || (name !== 'exists' && name !== 'empty' && name !== 'count')) {
    return undefined;
  }
  const chain = memberChain(receiver);
  if (!chain) {
    return undefined;
  }
  return (input, scope) => {
    walkChain(chain, input, scope, false);
    if (name === 'count') {
      return [rawCount];
    }
    return rawCount > 0 === (name === 'exists') ? TRUE : FALSE;
  };
}

// ---------------------------------------------------------------------------------------------
// Functions.

/**
 * The scope of an argument evaluated per item (fhirpath.js's "Expr" parameters): `$this` is one item
 * at a time. Made once per call of `where()`, `select()`, `exists()` or `all()` and refilled for each
 * item: what the argument returns is read before the next item (kept, counted, tested or copied into
 * the result), and no closure keeps a collection it is given, so no result outlives its item.
 */
interface ItemScope extends Scope {
  readonly self: [Item];
}

function itemScope(scope: Scope): ItemScope {
  return { run: scope.run, self: [undefined] };
}

/** The argument's result for one item, in a scope from {@link itemScope}. */
function perItem(arg: Eval): (item: Item, scope: ItemScope) => Collection {
  return (item, scope) => {
    scope.self[0] = item;
    return arg(scope.self, scope);
  };
}

/** An argument evaluated once against `$this` (or the root), as fhirpath.js evaluates value parameters. */
function atThis(arg: Eval): (scope: Scope) => Collection {
  return (scope) => arg(scope.self, scope);
}

/** A value parameter that must be one string (fhirpath.js's "String" parameters), else fhirpath.js decides. */
function stringArg(arg: Eval): (scope: Scope) => string {
  const at = atThis(arg);
  return (scope) => {
    const result = at(scope);
    const value = result.length === 1 ? valueOf(result[0]) : undefined;
    if (typeof value !== 'string') {
      throw BAIL;
    }
    return value;
  };
}

function compileFunction(functn: AstNode): Eval {
  const [ident, params] = functn.children ?? [];
  const name = ident?.text;
  const args = (params?.children ?? []).map((p) => p);
  const arity = args.length;
  const compiled = (): Eval[] => args.map(compileNode);
  switch (`${name}/${arity}`) {
    case 'exists/0':
      return (input) => (input.length > 0 ? TRUE : FALSE);
    case 'empty/0':
      return (input) => (input.length === 0 ? TRUE : FALSE);
    case 'count/0':
      return (input) => [input.length];
    case 'distinct/0':
      return (input) => distinct(input);
    case 'first/0':
      return (input) => (input.length > 0 ? [input[0]] : []);
    case 'not/0':
      return (input) => {
        const value = toBoolean(input);
        return value === undefined ? EMPTY : value ? FALSE : TRUE;
      };
    case 'where/1': {
      const criterion = perItem(compilePerItem(args[0]!));
      return (input, scope) => {
        if (input.length === 0) {
          return EMPTY;
        }
        const inner = itemScope(scope);
        const kept: Collection = [];
        for (const item of input) {
          if (keeps(criterion(item, inner))) {
            kept.push(item);
          }
        }
        return kept;
      };
    }
    case 'exists/1': {
      const criterion = perItem(compilePerItem(args[0]!));
      // Every item is tested, as fhirpath.js does (an error in a later item is still raised).
      return (input, scope) => {
        if (input.length === 0) {
          return FALSE;
        }
        const inner = itemScope(scope);
        let found = false;
        for (const item of input) {
          if (keeps(criterion(item, inner))) {
            found = true;
          }
        }
        return found ? TRUE : FALSE;
      };
    }
    case 'all/1': {
      const criterion = perItem(compilePerItem(args[0]!));
      // fhirpath.js stops at the first item whose criterion is not a single true.
      return (input, scope) => {
        const inner = itemScope(scope);
        for (const item of input) {
          const result = criterion(item, inner);
          if (result.length !== 1 || valueOf(result[0]) !== true) {
            return [false];
          }
        }
        return [true];
      };
    }
    case 'allFalse/0':
      // Every item a boolean (else fhirpath.js raises an error), checked up to the first true.
      return (input) => {
        for (const item of input) {
          const value = valueOf(item);
          if (typeof value !== 'boolean') {
            throw BAIL;
          }
          if (value) {
            return [false];
          }
        }
        return [true];
      };
    case 'matches/1':
      return compileMatches(args[0]!, compiled()[0]!);
    case 'htmlChecks/0':
      return (input) => htmlChecks(input);
    case 'select/1': {
      const projection = perItem(compilePerItem(args[0]!));
      return (input, scope) => {
        const inner = itemScope(scope);
        const out: Collection = [];
        for (const item of input) {
          const projected = projection(item, inner);
          for (let i = 0; i < projected.length; i++) {
            out.push(projected[i]);
          }
        }
        return out;
      };
    }
    case 'iif/2':
    case 'iif/3': {
      const [cond, ok, otherwise] = compiled();
      return (input, scope) => {
        // fhirpath.js evaluates the branches with `$this` as the whole input collection.
        const inner: Scope = { run: scope.run, self: input };
        const c = cond!(input, inner);
        const chosen = c.length === 1 && valueOf(c[0]) === true ? ok : otherwise;
        return chosen ? chosen(input, inner) : [];
      };
    }
    case 'extension/1': {
      const url = stringArg(compiled()[0]!);
      return (input, scope) => {
        const wanted = url(scope);
        const out: Collection = [];
        for (const item of input) {
          const data = valueOf(item);
          if (typeof data === 'object' && data !== null && !isPlainObject(data)) {
            throw BAIL; // a decimal literal, say: fhirpath.js reads its fields
          }
          const extensions =
            typeof data === 'object' && data !== null
              ? (data as { extension?: unknown }).extension
              : undefined;
          if (extensions === undefined || extensions === null) {
            continue;
          }
          if (!Array.isArray(extensions)) {
            throw BAIL;
          }
          const parent = item instanceof Node ? item : new Node(item, null, null);
          extensions.forEach((extension: { url?: unknown } | null, index) => {
            if (extension?.url === wanted) {
              out.push(makeNode(extension, 'Extension', 'Extension', parent, 'extension', index));
            }
          });
        }
        return out;
      };
    }
    case 'ofType/1':
      return compileOfType(args[0]!);
    case 'startsWith/1':
    case 'endsWith/1': {
      const arg = stringArg(compiled()[0]!);
      const starts = name === 'startsWith';
      return (input, scope) => {
        const text = singleString(input);
        const affix = arg(scope);
        if (text === undefined) {
          return [];
        }
        return [starts ? text.startsWith(affix) : text.endsWith(affix)];
      };
    }
    case 'join/0':
    case 'join/1': {
      const arg = arity === 1 ? stringArg(compiled()[0]!) : undefined;
      return (input, scope) => {
        const separator = arg ? arg(scope) : '';
        const strings: string[] = [];
        for (const item of input) {
          const value = valueOf(item);
          if (typeof value === 'string') {
            strings.push(value);
          } else if (value !== null && value !== undefined) {
            throw BAIL;
          }
        }
        return strings.length === 0 ? [] : [strings.join(separator)];
      };
    }
    default:
      throw new Unsupported(`function ${name}/${arity}`);
  }
}

/**
 * `matches(regex)` as fhirpath.js runs it: a JavaScript RegExp with the flags `u` and `s` (dot matches
 * newlines), tested against the input's one string. A literal pattern is compiled once, here.
 */
function compileMatches(arg: AstNode, compiledArg: Eval): Eval {
  const literal = stringLiteral(arg);
  let fixed: RegExp | undefined;
  if (literal !== undefined) {
    try {
      fixed = new RegExp(literal, 'us');
    } catch {
      throw new Unsupported('matches: a pattern fhirpath.js refuses'); // its error, in its words
    }
  }
  const pattern = stringArg(compiledArg);
  return (input, scope) => {
    let regex = fixed;
    if (regex === undefined) {
      try {
        regex = new RegExp(pattern(scope), 'us');
      } catch {
        throw BAIL;
      }
    }
    const text = singleString(input);
    return text === undefined ? [] : [regex.test(text)];
  };
}

/** The value of a boolean literal argument, else undefined. */
function booleanLiteral(arg: AstNode): boolean | undefined {
  const literal = unwrap(arg, ['TermExpression', 'LiteralTerm', 'BooleanLiteral']);
  return literal === undefined ? undefined : literal.text === 'true';
}

/** The text of a string literal argument (`'…'` without escapes), else undefined. */
function stringLiteral(arg: AstNode): string | undefined {
  let node: AstNode | undefined = arg;
  for (const type of ['TermExpression', 'LiteralTerm', 'StringLiteral']) {
    if (node?.type !== type) {
      return undefined;
    }
    node = type === 'StringLiteral' ? node : node.children?.[0];
  }
  const text = node?.text;
  return text === undefined || text.includes('\\') ? undefined : text.slice(1, -1);
}

/**
 * `htmlChecks()` (R4's txt-1 on Narrative.div): fhirpath.js's own check, given the input as typed
 * nodes, so that the XHTML rules stay fhirpath.js's; what the closure saves is the interpretation
 * of the expression around it (the base type's resolution, a context per node).
 */
const htmlChecksByFhirPathJs = compile('htmlChecks()', r4, {
  resolveInternalTypes: true,
}) as unknown as (context: unknown[]) => unknown[];
function htmlChecks(input: Collection): Collection {
  if (input.length !== 1) {
    return [];
  }
  const item = input[0];
  // fhirpath.js keeps a ResourceNode context as it is; a plain string is a System.String.
  const context = item instanceof Node ? toResourceNode(item) : item;
  if (typeof valueOf(item) !== 'string') {
    return [];
  }
  return htmlChecksByFhirPathJs([context]);
}

/** `ofType(X)` for a concrete resource type X (no type derives from one). */
function compileOfType(arg: AstNode): Eval {
  const name = typeSpecifierName(arg);
  if (
    !name ||
    model.type2Parent[name] !== 'DomainResource' ||
    Object.values(model.type2Parent).includes(name)
  ) {
    throw new Unsupported('ofType');
  }
  return (input) =>
    input.filter((item) => {
      if (!(item instanceof Node) || typeof item.data !== 'object' || item.data === null) {
        throw BAIL;
      }
      const resourceType = (item.data as { resourceType?: unknown }).resourceType;
      if (!resourceType) {
        throw BAIL;
      }
      return resourceType === name;
    });
}

function typeSpecifierName(arg: AstNode): string | undefined {
  let node: AstNode | undefined = arg;
  for (const type of ['TermExpression', 'InvocationTerm', 'MemberInvocation', 'Identifier']) {
    if (node?.type !== type) {
      return undefined;
    }
    node = type === 'Identifier' ? node : node.children?.[0];
  }
  return node?.text;
}

/** fhirpath.js's `where()` test: the criterion's first item is truthy (a node always is). */
function keeps(result: Collection): boolean {
  if (result.length === 0) {
    return false;
  }
  const first = result[0];
  if (first instanceof Node || first instanceof NumberLiteral) {
    return true;
  }
  return Boolean(first); // a plain number (a count) as JavaScript sees it, as fhirpath.js does
}

/** Singleton evaluation as a Boolean (fhirpath.js's singleton(coll, 'Boolean')); undefined is empty. */
function toBoolean(collection: Collection): boolean | undefined {
  if (collection.length === 0) {
    return undefined;
  }
  if (collection.length > 1) {
    throw BAIL; // fhirpath.js raises an error
  }
  const value = collection[0] instanceof NumberLiteral ? collection[0] : valueOf(collection[0]);
  if (value === null || value === undefined) {
    return undefined;
  }
  return value === true || value === false ? value : true;
}

/** The one string of a collection, undefined when empty (fhirpath.js's singleton(coll, 'String')). */
function singleString(collection: Collection): string | undefined {
  if (collection.length === 0) {
    return undefined;
  }
  const value = collection.length === 1 ? valueOf(collection[0]) : undefined;
  if (typeof value !== 'string') {
    throw BAIL;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Operators. fhirpath.js evaluates both operands against `$this` (or the root), never the input.

function operands(node: AstNode): [(scope: Scope) => Collection, (scope: Scope) => Collection] {
  const [left, right] = node.children ?? [];
  if (!left || !right) {
    throw new Unsupported('operator');
  }
  return [atThis(compileNode(left)), atThis(compileNode(right))];
}

/**
 * Equality of two items (fhirpath.js's deepEqual) where it is simple: strings and booleans by value;
 * an object (a Coding, say) or a number never equals a string or boolean. Two numbers (held as
 * decimal objects), dates and two objects are left to fhirpath.js.
 */
function equalItems(a: Item, b: Item): boolean {
  const m = numeric(a);
  const n = numeric(b);
  if (m !== undefined && n !== undefined) {
    return rounded(m.value) === rounded(n.value);
  }
  const x = comparable(a);
  const y = comparable(b);
  if (x === OBJECT || y === OBJECT) {
    if (x === OBJECT && y === OBJECT) {
      throw BAIL;
    }
    return false;
  }
  return x === y;
}

/**
 * A number with whether fhirpath.js holds it as a decimal object (literals, numbers read from the
 * data) or as a plain number (counts, numbers in variables); undefined when not a number.
 */
function numeric(item: Item): { value: number; decimal: boolean } | undefined {
  if (item instanceof NumberLiteral) {
    return { value: item.value, decimal: true };
  }
  if (item instanceof Node) {
    return typeof item.data === 'number' ? { value: item.data, decimal: true } : undefined;
  }
  return typeof item === 'number' ? { value: item, decimal: false } : undefined;
}

/** fhirpath.js compares numbers rounded to 1e-8 (numbers.js's roundToMaxPrecision). */
function rounded(x: number): number {
  return Math.round(x / 1e-8) * 1e-8;
}

/** Marks a plain object or a number: equal to no string or boolean. */
const OBJECT: unique symbol = Symbol('object');

function comparable(item: Item): string | boolean | typeof OBJECT {
  if (item instanceof Node && item.path !== null && DATE_TYPES.has(item.path)) {
    throw BAIL;
  }
  if (item instanceof NumberLiteral) {
    return OBJECT;
  }
  const value = valueOf(item);
  if (typeof value === 'string' || typeof value === 'boolean') {
    return value;
  }
  if (typeof value === 'number') {
    return OBJECT;
  }
  if (
    value !== null &&
    typeof value === 'object' &&
    isPlainObject(value) &&
    Object.keys(value).length > 0 &&
    // a Quantity with a comparator makes fhirpath.js raise an error when it converts it
    !('comparator' in value)
  ) {
    return OBJECT;
  }
  throw BAIL; // fhirpath.js's own objects, empty objects
}

function isDateNode(item: Item): boolean {
  return item instanceof Node && item.path !== null && DATE_TYPES.has(item.path);
}

function compileEquality(node: AstNode): Eval {
  const negate = node.text === '!=';
  if (node.text !== '=' && !negate) {
    throw new Unsupported(`operator ${node.text}`);
  }
  const [left, right] = operands(node);
  const general: Eval = (_input, scope) => {
    const a = left(scope);
    const b = right(scope);
    if (a.length === 0 || b.length === 0) {
      return [];
    }
    let equal = a.length === b.length;
    for (let i = 0; equal && i < a.length; i++) {
      equal = equalItems(a[i], b[i]);
    }
    return [negate ? !equal : equal];
  };
  return compileChainEquality(node, negate, general) ?? general;
}

/**
 * `path.member = value` (and `!=`), the content's most frequent criteria (`linkId = '…'`,
 * `answer.value = true`, `code = iif(…)` in `where()`): the member chain is read on the JSON (see
 * {@link walkChain}), no node or collection is made for its values, and a single string or boolean
 * is compared with the other side's single string or boolean as {@link equalItems} would. Any other
 * pair (numbers, objects, several values each side) is answered by the general equality, which
 * evaluates both sides again: they are pure, and focus-free parts come from the call's memo.
 */
function compileChainEquality(node: AstNode, negate: boolean, general: Eval): Eval | undefined {
  const [left, right] = node.children ?? [];
  const chain = left && memberChain(left);
  if (!right || !chain) {
    return undefined;
  }
  const matched = negate ? FALSE : TRUE;
  const unmatched = negate ? TRUE : FALSE;
  const literal = stringLiteral(right) ?? booleanLiteral(right);
  if (literal !== undefined) {
    // The other side is one string or boolean, known now.
    return (_input, scope) => {
      walkChain(chain, scope.self, scope, false);
      if (rawCount !== 1) {
        return rawCount === 0 ? EMPTY : unmatched;
      }
      const x = rawFirst;
      if (typeof x !== 'string' && typeof x !== 'boolean') {
        return equalItems(firstNode(), literal) ? matched : unmatched;
      }
      if (rawFirstPath !== null && DATE_TYPES.has(rawFirstPath)) {
        throw BAIL;
      }
      return x === literal ? matched : unmatched;
    };
  }
  const other = atThis(compileNode(right));
  return (input, scope) => {
    // fhirpath.js evaluates both operands against `$this` (or the root), the left one first.
    walkChain(chain, scope.self, scope, false);
    // Read before the other side runs: it may walk chains of its own.
    const count = rawCount;
    const x = rawFirst;
    const xPath = rawFirstPath;
    const xType = rawFirstType;
    const b = other(scope);
    if (count === 0 || b.length === 0) {
      return EMPTY;
    }
    if (count !== b.length) {
      return unmatched; // the lengths differ
    }
    if (count === 1 && (typeof x === 'string' || typeof x === 'boolean')) {
      const item = b[0];
      const y = item instanceof Node ? item.data : item;
      if (typeof y === 'string' || typeof y === 'boolean') {
        // equalItems() of two strings or booleans: a date on either side is handed over.
        if ((xPath !== null && DATE_TYPES.has(xPath)) || isDateNode(item)) {
          throw BAIL;
        }
        return x === y ? matched : unmatched;
      }
    }
    if (count === 1) {
      // equalItems() reads a node's value and path only: no lineage needed.
      return equalItems(makeNode(x, xPath, xType), b[0]) ? matched : unmatched;
    }
    return general(input, scope); // several values each side
  };
}

/**
 * The chain's first value as a node typed as {@link makeNode} types it, without its parent (only
 * read by {@link equalItems}, which looks at the value and the path).
 */
function firstNode(): Node {
  return makeNode(rawFirst, rawFirstPath, rawFirstType);
}

/**
 * `path.member.where(child = 'text')` (or `= true`, `!=`, or `child = <focus-free>`): the content's
 * look-up of items by linkId or code. The member's values are tested on their JSON, and a node is
 * made only for each value kept (and for the rare value whose child takes the general comparison).
 * Same checks, same hand-overs, same nodes as `path.member` followed by `where()` with
 * {@link compileChainEquality}'s test. With `test` (a trailing `exists()` or `empty()`), only whether
 * a value is kept: every value is still tested, and no node is made.
 */
function compileMemberWhere(receiver: AstNode, invocation: AstNode, test?: CountTest): Eval | undefined {
  if (receiver.type !== 'InvocationExpression' || receiver.children?.length !== 2) {
    return undefined;
  }
  const memberNode = receiver.children[1]!;
  if (memberNode.type !== 'MemberInvocation') {
    return undefined;
  }
  const member = memberOf(memberNode);
  if (member.typeTest) {
    return undefined;
  }
  const criterion = keyCriterion(invocation);
  if (!criterion) {
    return undefined;
  }
  const keeps = criterion.keeps;
  const prefix = compileNode(receiver.children[0]!);
  const key = member.steps.key;
  return (input, scope) => {
    const parents = prefix(input, scope);
    let out: Collection | undefined;
    let found = false;
    for (const parentItem of parents) {
      if (!readChild(parentItem, member.steps)) {
        continue;
      }
      const value = foundValue;
      const childPath = foundPath;
      const childType = foundType;
      let parent: Node | undefined;
      const elements = Array.isArray(value) ? (value as unknown[]) : undefined;
      for (let index = 0, n = elements ? elements.length : 1; index < n; index++) {
        const element = elements ? elements[index] : value;
        if (element === null || element === undefined) {
          throw BAIL; // as children()
        }
        // makeNode()'s typing of the element, without the node
        const resourceType = (element as { resourceType?: unknown }).resourceType;
        if (!resourceType && childType === 'integer64') {
          throw BAIL;
        }
        const path = resourceType ? (resourceType as string) : childPath || null;
        if (keeps(element, path, scope)) {
          if (test !== undefined) {
            found = true;
            continue;
          }
          parent ??= parentItem instanceof Node ? parentItem : new Node(parentItem, null, null);
          (out ??= []).push(makeNode(element, childPath, childType, parent, key, elements ? index : null));
        }
      }
    }
    return test !== undefined ? countResult(test, found) : (out ?? EMPTY);
  };
}

/** A trailing `exists()` or `empty()` fused into the `where()` before it. */
type CountTest = 'exists' | 'empty';

function countResult(test: CountTest, found: boolean): Collection {
  return found === (test === 'exists') ? TRUE : FALSE;
}

/**
 * `X.where(…).exists()` and `X.where(…).empty()` for the keyed `where()` forms
 * ({@link compileMemberWhere}, {@link compileVariableWhere}): the kept items are only counted. Not
 * when `X.where(…)` gets a memo slot, whose result other occurrences share.
 */
function compileCountedWhere(receiver: AstNode, invocation: AstNode): Eval | undefined {
  if (invocation.type !== 'FunctionInvocation' || receiver.type !== 'InvocationExpression') {
    return undefined;
  }
  const { name, args } = functionParts(invocation);
  if (args.length !== 0 || (name !== 'exists' && name !== 'empty') || memoizes(receiver)) {
    return undefined;
  }
  const [prefix, where] = receiver.children ?? [];
  if (!prefix || !where || receiver.children!.length !== 2) {
    return undefined;
  }
  return compileMemberWhere(prefix, where, name) ?? compileVariableWhere(prefix, where, name);
}

/** Whether {@link compileNode} gives `node` a memo slot. */
function memoizes(node: AstNode): boolean {
  return (
    slots !== undefined &&
    MEMO_TYPES.has(node.type) &&
    isFocusFree(node) &&
    (perItemDepth > 0 || (occurrences?.get(structureKey(node)) ?? 0) > 1)
  );
}

/**
 * The test of `where(…)` on one item's JSON value `data` with fhirpath.js path `path`, for a
 * criterion made of `chain = 'text'` (or `= true`, `!=`, or a focus-free right side such as
 * `iif(%x, 'a', 'b')`; `chain` member steps from the item, such as `linkId` or `answer.value`)
 * joined by `and` and `or`: what compileChainEquality's test and compileLogic give with `$this` the
 * item, without a node for the item or its children (but for the rare value that takes the general
 * comparison). Both sides of `and` and `or` are tested, left first, as fhirpath.js does. Undefined
 * when the argument is not of that form.
 */
interface KeyCriterion {
  /** The criterion is a single true for the item; `scope` is the scope `where()` is evaluated in. */
  readonly keeps: (data: unknown, path: string | null, scope: Scope) => boolean;
  /**
   * A chain starts with a member named as a type (`code`): fhirpath.js first tests the item's type,
   * which hands over an item that is not an object (see {@link typeTestHolds}); an object never
   * is one. The test itself hands over any item that is not an object but null (it reads a member).
   */
  readonly typeTest: boolean;
}

function keyCriterion(invocation: AstNode): KeyCriterion | undefined {
  const { name, args } =
    invocation.type === 'FunctionInvocation' ? functionParts(invocation) : { name: undefined, args: [] };
  if (name !== 'where' || args.length !== 1) {
    return undefined;
  }
  const typeTest = { found: false };
  perItemDepth++; // the criterion runs once per item: its focus-free parts get memo slots
  try {
    const test = rawTest(args[0]!, typeTest);
    return (
      test && { keeps: (data, path, scope) => test(data, path, scope) === true, typeTest: typeTest.found }
    );
  } finally {
    perItemDepth--;
  }
}

/** A criterion's three-valued result on one item's JSON (undefined is the empty collection). */
type RawTest = (data: unknown, path: string | null, scope: Scope) => boolean | undefined;

function rawTest(node: AstNode, typeTest: { found: boolean }): RawTest | undefined {
  let current = node;
  while (
    (current.type === 'TermExpression' || current.type === 'ParenthesizedTerm') &&
    current.children?.length === 1
  ) {
    current = current.children[0]!;
  }
  const [leftNode, rightNode] = current.children ?? [];
  if (!leftNode || !rightNode || current.children!.length !== 2) {
    return undefined;
  }
  if (current.type === 'AndExpression' || current.type === 'OrExpression') {
    const left = rawTest(leftNode, typeTest);
    const right = left && rawTest(rightNode, typeTest);
    if (!left || !right) {
      return undefined;
    }
    // compileLogic's `and` and `or`
    return current.text === 'and'
      ? (data, path, scope) => {
          const a = left(data, path, scope);
          const b = right(data, path, scope);
          return a === false || b === false ? false : a === undefined || b === undefined ? undefined : true;
        }
      : (data, path, scope) => {
          const a = left(data, path, scope);
          const b = right(data, path, scope);
          return a === true || b === true ? true : a === undefined || b === undefined ? undefined : false;
        };
  }
  if (current.type !== 'EqualityExpression' || (current.text !== '=' && current.text !== '!=')) {
    return undefined;
  }
  const literal = stringLiteral(rightNode) ?? booleanLiteral(rightNode);
  const { members: memberNodes, head } = chainParts(leftNode);
  if (head !== undefined || memberNodes.length === 0 || (literal === undefined && !isFocusFree(rightNode))) {
    return undefined;
  }
  const members = memberNodes.map(memberOf);
  typeTest.found ||= members[0]!.typeTest;
  const negate = current.text === '!=';
  // A focus-free right side: the same for every item, from the call's memo after the first.
  const other = literal === undefined ? compileNode(rightNode) : undefined;
  const compare = (
    count: number,
    first: unknown,
    firstPath: string | null,
    firstType: string | null,
    scope: Scope
  ): boolean | undefined => {
    if (other !== undefined) {
      return compareWith(other(scope.self, scope), count, first, firstPath, firstType, negate);
    }
    if (count === 0) {
      return undefined;
    }
    if (count > 1) {
      return negate; // the lengths differ
    }
    let equal: boolean;
    if (typeof first === 'string' || typeof first === 'boolean') {
      if (firstPath !== null && DATE_TYPES.has(firstPath)) {
        throw BAIL;
      }
      equal = first === literal;
    } else {
      // equalItems() reads a node's value and path only: no lineage needed.
      equal = equalItems(makeNode(first, firstPath, firstType), literal);
    }
    return negate ? !equal : equal;
  };
  if (members.length > 1) {
    return (data, path, scope) => {
      // walkChain() from the one item, as compileChainEquality's literal test reads it
      resetRaw(false);
      walkFrom(data, path, members, 0);
      return compare(rawCount, rawFirst, rawFirstPath, rawFirstType, scope);
    };
  }
  // One member (`linkId`): walkFrom()'s reads, without its module state.
  const steps = members[0]!.steps;
  return (data, path, scope) => {
    if (!readChildAt(data, path, steps)) {
      return compare(0, undefined, null, null, scope);
    }
    const found = foundValue;
    const foundAt = foundPath;
    const typed = foundType;
    const items = Array.isArray(found) ? (found as unknown[]) : undefined;
    let count = 0;
    let first: unknown;
    for (let i = 0, m = items ? items.length : 1; i < m; i++) {
      const item = items ? items[i] : found;
      if (item === null || item === undefined) {
        throw BAIL;
      }
      if (typed === 'integer64' && !(item as { resourceType?: unknown }).resourceType) {
        throw BAIL;
      }
      if (count++ === 0) {
        first = item;
      }
    }
    return compare(count, first, foundAt, typed, scope);
  };
}

/**
 * compileChainEquality's test of a chain's values (how many, the first typed) against the other
 * side's collection `b`: three-valued (undefined is the empty collection). Several values each
 * side take the general equality there; here they hand over.
 */
function compareWith(
  b: Collection,
  count: number,
  first: unknown,
  firstPath: string | null,
  firstType: string | null,
  negate: boolean
): boolean | undefined {
  if (count === 0 || b.length === 0) {
    return undefined;
  }
  if (count !== b.length) {
    return negate; // the lengths differ
  }
  if (count > 1) {
    throw BAIL;
  }
  const item = b[0];
  let equal: boolean;
  const y = item instanceof Node ? item.data : item;
  if (
    (typeof first === 'string' || typeof first === 'boolean') &&
    (typeof y === 'string' || typeof y === 'boolean')
  ) {
    // equalItems() of two strings or booleans: a date on either side is handed over.
    if ((firstPath !== null && DATE_TYPES.has(firstPath)) || isDateNode(item)) {
      throw BAIL;
    }
    equal = first === y;
  } else {
    // equalItems() reads a node's value and path only: no lineage needed.
    equal = equalItems(makeNode(first, firstPath, firstType), item);
  }
  return negate ? !equal : equal;
}

/**
 * `%name.where(child = 'text')` (or `= true`, `!=`, or a focus-free right side): the SDC variables'
 * look-up of items by linkId (`%symptoms.where(linkId = 'dry-orgasm')`). The variable's values are
 * tested as they are in the environment, and typed (a node made) only when kept; a value is checked
 * for what would make {@link variable} hand over before it is tested, so the hand-overs are the same
 * as `%name` followed by `where()`. A variable already converted in this call is read from the
 * call's conversion. With `test` (a trailing `exists()` or `empty()`), kept values are only counted.
 */
function compileVariableWhere(receiver: AstNode, invocation: AstNode, test?: CountTest): Eval | undefined {
  const term = unwrap(receiver, ['TermExpression', 'ExternalConstantTerm']);
  const name = term && (term.delimitedText ?? term.text);
  const criterion = name && !/^'.*'$/.test(name) ? keyCriterion(invocation) : undefined;
  if (!criterion) {
    return undefined;
  }
  const { keeps, typeTest } = criterion;
  const slot = variableSlot(name!);
  return (_input, scope) => {
    const run = scope.run;
    const raw = run.env[name!];
    let found = false;
    let kept: Collection | undefined;
    if (run.vars?.[slot] !== undefined || !(name! in run.env) || !Array.isArray(raw)) {
      // Converted already, built in, or not an array: as `%name` then where().
      const items = variable(run, name!, slot);
      for (const item of items) {
        if (item === null || item === undefined) {
          if (typeTest) {
            throw BAIL; // typeTestHolds()
          }
        } else {
          const node = item instanceof Node ? item : null;
          if (keeps(node ? node.data : item, node?.path ?? null, scope)) {
            found = true;
            if (test === undefined) {
              (kept ??= []).push(item);
            }
          }
        }
      }
    } else {
      for (let i = 0; i < raw.length; i++) {
        const value: unknown = raw[i];
        if (value === null || value === undefined) {
          if (typeTest) {
            throw BAIL; // typeTestHolds()
          }
        } else if (keeps(inputData(value), inputPath, scope)) {
          found = true;
          if (test === undefined) {
            // inputData() made the checks typedInput() makes: this cannot hand over.
            (kept ??= []).push(typedInput(value));
          }
        }
      }
    }
    return test !== undefined ? countResult(test, found) : (kept ?? EMPTY);
  };
}

/** What {@link inputData} found: the fhirpath.js path of the value's node, null for an untyped value. */
let inputPath: string | null = null;

/**
 * {@link typedInput} of a variable's value without making its node: the JSON value read, its path in
 * {@link inputPath}; the same hand-overs.
 */
function inputData(value: unknown): unknown {
  inputPath = null;
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  // A JSON object first (the common case): a ResourceNode is not one.
  if (!isPlainObject(value)) {
    if (!(value instanceof sample.constructor)) {
      throw BAIL;
    }
    const rn = value as unknown as ResourceNodeShape;
    const data = rn.data;
    if (
      rn._data !== null ||
      (typeof data === 'object' && data !== null && !isPlainObject(data)) ||
      typeof data === 'number' ||
      typeof data === 'bigint'
    ) {
      throw BAIL; // as fromResourceNode()
    }
    inputPath = rn.path;
    return data;
  }
  const resourceType = (value as { resourceType?: unknown }).resourceType;
  const meta = (value as { __path__?: PathMeta }).__path__;
  if (resourceType) {
    inputPath = resourceType as string; // makeNode() names a resource by its type
  } else if (meta) {
    if (meta.fhirNodeDataType === 'integer64') {
      throw BAIL; // as makeNode()
    }
    inputPath = meta.path || null;
  }
  return value;
}

/** Shared results (no closure changes a collection it is given). */
const TRUE: Collection = [true];
const FALSE: Collection = [false];
const EMPTY: Collection = [];

/** The node under a chain of single-child wrappers of the given types, else undefined. */
function unwrap(node: AstNode, types: readonly string[]): AstNode | undefined {
  let current: AstNode | undefined = node;
  for (let i = 0; i < types.length; i++) {
    if (current === undefined || current.type !== types[i]) {
      return undefined;
    }
    if (i < types.length - 1) {
      current = current.children?.length === 1 ? current.children[0] : undefined;
    }
  }
  return current;
}

/**
 * The operands of an arithmetic or ordering operator: undefined when either is empty (the result is
 * empty), the two items when both are singletons; anything longer is an error in fhirpath.js, so BAIL.
 */
function singletons(a: Collection, b: Collection): [Item, Item] | undefined {
  if (a.length === 0 || b.length === 0) {
    return undefined;
  }
  if (a.length !== 1 || b.length !== 1) {
    throw BAIL;
  }
  return [a[0], b[0]];
}

/**
 * `<`, `>`, `<=`, `>=` between numbers (rounded when fhirpath.js holds one as a decimal object, as
 * its compare() does) or between strings that are not dates.
 */
function compileComparison(node: AstNode): Eval {
  const [left, right] = operands(node);
  const op = node.text;
  if (op !== '<' && op !== '>' && op !== '<=' && op !== '>=') {
    throw new Unsupported(`operator ${op}`);
  }
  const test = (x: number | string, y: number | string): boolean =>
    op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
  return (_input, scope) => {
    const pair = singletons(left(scope), right(scope));
    if (pair === undefined) {
      return [];
    }
    const [p, q] = pair;
    const m = numeric(p);
    const n = numeric(q);
    if (m !== undefined && n !== undefined) {
      const decimal = m.decimal || n.decimal;
      return [decimal ? test(rounded(m.value), rounded(n.value)) : test(m.value, n.value)];
    }
    const x = valueOf(p);
    const y = valueOf(q);
    if (typeof x === 'string' && typeof y === 'string' && !isDateNode(p) && !isDateNode(q)) {
      return [test(x, y)];
    }
    throw BAIL; // dates, quantities, mixed types (an error in fhirpath.js)
  };
}

/** fhirpath.js's distinct(): the first of each run of equal items, in order. */
function distinct(collection: Collection): Collection {
  const kept: Collection = [];
  for (const item of collection) {
    if (!kept.some((k) => equalItems(k, item))) {
      kept.push(item);
    }
  }
  return kept;
}

function compileUnion(node: AstNode): Eval {
  const [left, right] = operands(node);
  return (_input, scope) => distinct(left(scope).concat(right(scope)));
}

/** Three-valued logic, as fhirpath.js's logic.js (undefined is the empty collection). */
function compileLogic(node: AstNode): Eval {
  const [left, right] = operands(node);
  const op = node.text;
  let combine: (a: boolean | undefined, b: boolean | undefined) => boolean | undefined;
  switch (op) {
    case 'and':
      combine = (a, b) =>
        a === false || b === false ? false : a === undefined || b === undefined ? undefined : true;
      break;
    case 'or':
      combine = (a, b) =>
        a === true || b === true ? true : a === undefined || b === undefined ? undefined : false;
      break;
    case 'implies':
      combine = (a, b) => (a === false ? true : a === true ? b : b === true ? true : undefined);
      break;
    case 'xor':
      combine = (a, b) => (a === undefined || b === undefined ? undefined : a !== b);
      break;
    default:
      throw new Unsupported(`operator ${op}`);
  }
  return (_input, scope) => {
    const a = toBoolean(left(scope));
    const b = toBoolean(right(scope));
    const result = combine(a, b);
    return result === undefined ? [] : [result];
  };
}

function compileMembership(node: AstNode): Eval {
  const [left, right] = operands(node);
  const contains = node.text === 'contains';
  if (!contains && node.text !== 'in') {
    throw new Unsupported(`operator ${node.text}`);
  }
  return (_input, scope) => {
    const a = left(scope);
    const b = right(scope);
    const [collection, element] = contains ? [a, b] : [b, a];
    if (element.length === 0) {
      return [];
    }
    if (collection.length === 0) {
      return [false];
    }
    if (element.length > 1) {
      throw BAIL;
    }
    return [collection.some((item) => equalItems(item, element[0]))];
  };
}

/** `+` and `&` on strings. */
function compileAdditive(node: AstNode): Eval {
  const [left, right] = operands(node);
  if (node.text === '&') {
    const text = (collection: Collection): string =>
      collection.length === 0 ? '' : singleString(collection)!;
    return (_input, scope) => [text(left(scope)) + text(right(scope))];
  }
  if (node.text !== '+') {
    throw new Unsupported(`operator ${node.text}`);
  }
  return (_input, scope) => {
    const pair = singletons(left(scope), right(scope));
    if (pair === undefined) {
      return [];
    }
    const [p, q] = pair;
    const x = valueOf(p);
    const y = valueOf(q);
    if (isDateNode(p) || isDateNode(q) || typeof x !== 'string' || typeof y !== 'string') {
      throw BAIL;
    }
    return [x + y];
  };
}

/**
 * A JSON object: its prototype is an Object.prototype (of any realm: jest's, or the one
 * structuredClone uses), not a class's (fhirpath.js's decimals, dates and nodes; arrays).
 */
function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  // This realm's Object.prototype first: JSON.parse's objects, the common case.
  return proto === Object.prototype || proto === null || Object.getPrototypeOf(proto) === null;
}
