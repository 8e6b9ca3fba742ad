import type { OperationOutcomeIssue, QuestionnaireResponse } from '@medplum/fhirtypes';
import { compileFhirPath, FhirPathError } from '../fhirpath/fhirpath';
import type { CompiledFhirPath, FhirPathEnv } from '../fhirpath/fhirpath';
import { isObject } from '../json';
import { issue } from '../outcomes';
import type { Clock } from '../types';
import type { CompiledQuestionnaire, ExpressionDef, LinkIdLookup } from './questionnaire-model';
import { CLOCK_VARIABLE } from './questionnaire-model';
import type { ResponseNode, ResponseTree } from './response-tree';

/** Options shared by everything that evaluates Questionnaire expressions. */
export interface ExpressionOptions {
  /**
   * Clock for `today()`, `now()` and `timeOfDay()` (UTC). Without it, an expression that calls
   * one of them fails with an issue instead of reading the system clock.
   */
  readonly clock?: Clock;
}

/** An expression result with what it depends on. */
interface Tracked {
  /** The result; undefined when the evaluation failed. */
  readonly value: unknown[] | undefined;
  /** linkIds whose items it reads (through look-ups, directly or via variables). */
  readonly deps: ReadonlySet<string>;
  /** True when it (or a variable it uses) reads the response or item in an untracked way. */
  readonly volatile: boolean;
}

/**
 * Results carried from one evaluation pass to the next: a result is reused while none of the
 * linkIds it depends on changed and it does not read the response's items in an untracked way.
 * Keyed by expression, then by item instance (the node's logical key, stable across passes).
 */
export class EvaluationMemo {
  private readonly entries = new Map<ExpressionDef, Map<string, Tracked>>();
  private active = false;

  /**
   * Starts the next pass. Drops every result that depends on a changed linkId or is volatile.
   * @param changed - linkIds of items written (or created, or removed) since the last pass,
   *   with the linkIds of their enclosing items.
   */
  nextPass(changed: ReadonlySet<string>): void {
    this.active = true;
    for (const byNode of this.entries.values()) {
      for (const [key, t] of byNode) {
        if (t.volatile || dependsOn(t.deps, changed)) {
          byNode.delete(key);
        }
      }
    }
  }

  /** A reusable result (never in the first pass). */
  get(def: ExpressionDef, nodeKey: string): Tracked | undefined {
    return this.active ? this.entries.get(def)?.get(nodeKey) : undefined;
  }

  /** Records a result. */
  set(def: ExpressionDef, nodeKey: string, t: Tracked): void {
    let byNode = this.entries.get(def);
    if (!byNode) {
      byNode = new Map();
      this.entries.set(def, byNode);
    }
    byNode.set(nodeKey, t);
  }
}

function dependsOn(deps: ReadonlySet<string>, changed: ReadonlySet<string>): boolean {
  for (const d of deps) {
    if (changed.has(d)) {
      return true;
    }
  }
  return false;
}

/**
 * Compiled FHIRPath per expression and context type, kept on the definition itself: it belongs to a
 * compiled Questionnaire (a private, never modified copy), so this holds no more than its
 * expressions, and it spares a look-up in the shared compile cache (or any map) on every evaluation.
 */
function compiledFor(def: ExpressionDef, onItem: boolean): CompiledFhirPath {
  const slots = def as CompiledSlots;
  const known = onItem ? slots.compiledOnItem : slots.compiledOnResponse;
  if (known) {
    return known;
  }
  const fn = compileFhirPath(def.source, onItem ? ITEM_BASE : undefined);
  if (onItem) {
    slots.compiledOnItem = fn;
  } else {
    slots.compiledOnResponse = fn;
  }
  return fn;
}

/** The compiled closures an ExpressionDef carries once evaluated (see {@link compiledFor}). */
interface CompiledSlots {
  compiledOnItem?: CompiledFhirPath;
  compiledOnResponse?: CompiledFhirPath;
}

/** Marks a variable under evaluation (cycle detection). */
const PENDING = Symbol('pending');

interface Scope {
  readonly parent: Scope | undefined;
  /** The item whose variables these are; undefined at Questionnaire level. */
  readonly node: ResponseNode | undefined;
  readonly defs: ReadonlyMap<string, ExpressionDef>;
  readonly values: Map<string, Tracked | typeof PENDING>;
}

const ITEM_BASE = 'QuestionnaireResponse.item';
const NO_DEPS: ReadonlySet<string> = new Set();

/**
 * Evaluates the Questionnaire's SDC expressions against one state of a response, following
 * https://hl7.org/fhir/uv/sdc/STU4/expressions.html: `%resource` is the response, `%questionnaire`
 * the Questionnaire, the context (and `%context`) the response item the expression's item stands
 * for (the response itself at Questionnaire level), `%qitem` the Questionnaire item. Variables are
 * visible on their node and its descendants; a descendant may override a name. Variables are
 * evaluated lazily (only those an expression names) and once per item instance; a variable may use
 * any other in scope, and a cycle is reported rather than followed.
 * One session serves one state of the response: build a new one after changing the response.
 */
export class ExpressionSession {
  private readonly scopes = new Map<ResponseNode | undefined, Scope>();
  /** The Questionnaire's scope, made on first use. */
  private root: Scope | undefined;
  private readonly lookups: Partial<Record<LinkIdLookup['axis'], Map<string, unknown[]>>> = {};
  private clockValues: Record<string, string> | undefined;
  private readonly reported = new Set<string>();
  private ranOnResponse = false;

  /**
   * @param cq - compiled Questionnaire.
   * @param tree - the response aligned with it; expressions run on `tree.response`, which must be
   *   a private copy (fhirpath.js adds hidden properties to the objects it returns).
   * @param options - clock.
   * @param report - receives each problem once.
   * @param memo - results carried over from an earlier pass of the same calculation.
   */
  constructor(
    private readonly cq: CompiledQuestionnaire,
    private readonly tree: ResponseTree,
    private readonly options: ExpressionOptions,
    private readonly report: (issue: OperationOutcomeIssue) => void,
    private readonly memo?: EvaluationMemo
  ) {}

  /** The response the expressions see as `%resource`. */
  get response(): QuestionnaireResponse {
    return this.tree.response;
  }

  /**
   * Whether any FHIRPath evaluation ran on this state of the response (an expression, or a
   * look-up index). Until one does, fhirpath.js's hidden metadata cannot be on its objects.
   */
  get touchedResponse(): boolean {
    return this.ranOnResponse;
  }

  /**
   * Evaluates an expression defined on `node`'s Questionnaire item (or at Questionnaire level when
   * `node` is undefined) for that item instance.
   * @param def - the expression.
   * @param node - the item instance (may be virtual).
   * @returns the result, or undefined when it failed (the failure is reported).
   */
  evaluate(def: ExpressionDef, node: ResponseNode | undefined): unknown[] | undefined {
    return this.run(def, node, this.scopeFor(node)).value;
  }

  private run(def: ExpressionDef, node: ResponseNode | undefined, scope: Scope): Tracked {
    if (!this.memo) {
      return this.compute(def, node, scope);
    }
    const nodeKey = node?.key ?? '';
    const cached = this.memo.get(def, nodeKey);
    if (cached) {
      return cached;
    }
    const result = this.compute(def, node, scope);
    this.memo.set(def, nodeKey, result);
    return result;
  }

  private compute(def: ExpressionDef, node: ResponseNode | undefined, scope: Scope): Tracked {
    if (def.problem) {
      return this.fail(def, def.problem);
    }
    const constant = def.isConstant ? this.cq.constants.get(def.location) : undefined;
    if (constant) {
      return { value: constant, deps: NO_DEPS, volatile: false };
    }
    let fn: CompiledFhirPath;
    try {
      fn = compiledFor(def, node !== undefined);
    } catch (err) {
      return this.fail(def, err instanceof FhirPathError ? err.reason : String(err));
    }
    const env: FhirPathEnv = { resource: this.tree.response, questionnaire: this.cq.questionnaire };
    if (node?.q) {
      env.qitem = node.q.item;
    }
    // What a result depends on matters only to a memo that carries it to a next pass.
    const deps = this.memo ? new Set<string>() : undefined;
    let volatile = def.readsItems;
    for (const name of def.refs) {
      const v = this.variable(name, scope);
      if (v) {
        env[name] = v.value ?? [];
        if (deps) {
          v.deps.forEach((d) => deps.add(d));
        }
        volatile ||= v.volatile;
      }
    }
    for (const lookup of def.lookups) {
      env[lookup.varName] = this.lookup(lookup.axis).get(lookup.linkId) ?? [];
      deps?.add(lookup.linkId);
    }
    if (def.clock.length > 0) {
      const clock = this.clock();
      if (!clock) {
        return this.fail(
          def,
          `it calls ${def.clock.map((c) => `${c}()`).join(', ')} but no clock was injected`
        );
      }
      Object.assign(env, clock);
    }
    try {
      this.ranOnResponse = true;
      const value = fn(node ? node.item : this.tree.response, env);
      if (def.isConstant) {
        this.cq.constants.set(def.location, value);
      }
      return { value, deps: deps ?? NO_DEPS, volatile };
    } catch (err) {
      const failed = this.fail(def, err instanceof FhirPathError ? err.reason : String(err));
      return { ...failed, deps: deps ?? NO_DEPS, volatile };
    }
  }

  /** Value of `%name` seen from a scope: the nearest definition, evaluated on first use. */
  private variable(name: string, from: Scope): Tracked | undefined {
    for (let s: Scope | undefined = from; s; s = s.parent) {
      const def = s.defs.get(name);
      if (!def) {
        continue;
      }
      const known = s.values.get(name);
      if (known === PENDING) {
        return { ...this.fail(def, `variable '${name}' depends on itself`), volatile: true };
      }
      if (known !== undefined) {
        return known;
      }
      s.values.set(name, PENDING);
      const value = this.run(def, s.node, s);
      s.values.set(name, value);
      return value;
    }
    // Unknown names are left to FHIRPath, which reports them only if the evaluation reaches them.
    return undefined;
  }

  private scopeFor(node: ResponseNode | undefined): Scope {
    if (node !== undefined && node.q?.variablesAbove === false) {
      // No item on its way up defines variables: the scope is the Questionnaire's.
      return this.rootScope();
    }
    const existing = this.scopes.get(node);
    if (existing) {
      return existing;
    }
    let scope: Scope;
    if (!node) {
      scope = this.rootScope();
    } else {
      const parent = this.scopeFor(node.container.node);
      const defs = node.q ? node.q.variables : [];
      // Items without variables share their parent's scope, so values are computed once.
      scope = defs.length > 0 ? { parent, node, defs: definitionsByName(defs), values: new Map() } : parent;
    }
    this.scopes.set(node, scope);
    return scope;
  }

  private rootScope(): Scope {
    this.root ??= {
      parent: undefined,
      node: undefined,
      defs: definitionsByName(this.cq.variables),
      values: new Map(),
    };
    return this.root;
  }

  /**
   * Response items by linkId, exactly as `%resource.repeat(item).where(linkId=...)` (or
   * `descendants()`) selects them, built once per session. The items come from FHIRPath
   * evaluations, so they keep fhirpath.js's type information when passed back as variables.
   */
  private lookup(axis: LinkIdLookup['axis']): Map<string, unknown[]> {
    const cached = this.lookups[axis];
    if (cached) {
      return cached;
    }
    this.ranOnResponse = true;
    const index =
      axis === 'repeat'
        ? this.repeatIndex()
        : axis === 'descendants'
          ? this.descendantsIndex()
          : this.itemIndex();
    this.lookups[axis] = index;
    return index;
  }

  /**
   * `repeat(item)` without its cost: fhirpath.js's repeat() hashes every item to drop duplicates,
   * which is far slower than plain navigation. So each level is read with `item`, `item.item`, ...
   * (breadth first, as repeat() goes) and duplicates are dropped here with the same rule: an item
   * equal (FHIRPath `=`, i.e. same JSON content) to one already collected is skipped. Only items
   * with the same linkId can be equal, so only those are compared.
   */
  private repeatIndex(): Map<string, unknown[]> {
    const index = new Map<string, unknown[]>();
    const seen = new Map<string, Set<string>>();
    let path = 'item';
    for (let depth = 0; depth < 100; depth++) {
      let level: unknown[];
      try {
        level = compileFhirPath(path)(this.tree.response);
      } catch {
        break;
      }
      if (level.length === 0) {
        break;
      }
      for (const n of level) {
        if (!isObject(n) || typeof n.linkId !== 'string') {
          continue;
        }
        const list = index.get(n.linkId);
        if (!list) {
          index.set(n.linkId, [n]);
          continue;
        }
        let keys = seen.get(n.linkId);
        if (!keys) {
          keys = new Set(list.map(canonicalJson));
          seen.set(n.linkId, keys);
        }
        const key = canonicalJson(n);
        if (!keys.has(key)) {
          keys.add(key);
          list.push(n);
        }
      }
      path += '.item';
    }
    return index;
  }

  /** `%resource.item.where(linkId=...)`: the top-level items, in order, equal ones included. */
  private itemIndex(): Map<string, unknown[]> {
    return this.indexByLinkId('item');
  }

  private descendantsIndex(): Map<string, unknown[]> {
    return this.indexByLinkId('descendants().where(linkId.exists())');
  }

  /** The nodes `expression` selects from the response, grouped by linkId in document order. */
  private indexByLinkId(expression: string): Map<string, unknown[]> {
    const index = new Map<string, unknown[]>();
    let nodes: unknown[] = [];
    try {
      nodes = compileFhirPath(expression)(this.tree.response);
    } catch {
      nodes = [];
    }
    for (const n of nodes) {
      if (isObject(n) && typeof n.linkId === 'string') {
        const list = index.get(n.linkId);
        if (list) {
          list.push(n);
        } else {
          index.set(n.linkId, [n]);
        }
      }
    }
    return index;
  }

  private clock(): Record<string, string> | undefined {
    if (!this.options.clock) {
      return undefined;
    }
    if (!this.clockValues) {
      const iso = this.options.clock().toISOString();
      this.clockValues = {
        [CLOCK_VARIABLE.now]: iso,
        [CLOCK_VARIABLE.today]: iso.slice(0, 10),
        [CLOCK_VARIABLE.timeOfDay]: iso.slice(11, 23),
      };
    }
    return this.clockValues;
  }

  private fail(def: ExpressionDef, reason: string): Tracked {
    const key = `${def.location}\u0000${reason}`;
    if (!this.reported.has(key)) {
      this.reported.add(key);
      this.report(expressionIssue(def, reason));
    }
    return { value: undefined, deps: NO_DEPS, volatile: false };
  }
}

/** Variables by name per list of definitions (a compiled Questionnaire's, never modified). */
const definitionMaps = new WeakMap<readonly ExpressionDef[], ReadonlyMap<string, ExpressionDef>>();

/**
 * The variables of one node by name, as a session resolves them: the first definition of a name wins.
 * @param defs - a compiled Questionnaire's list of variables (cached per list).
 */
export function definitionsByName(defs: readonly ExpressionDef[]): ReadonlyMap<string, ExpressionDef> {
  const known = definitionMaps.get(defs);
  if (known) {
    return known;
  }
  const map = new Map<string, ExpressionDef>();
  for (const d of defs) {
    if (d.name !== undefined && !map.has(d.name)) {
      map.set(d.name, d);
    }
  }
  definitionMaps.set(defs, map);
  return map;
}

/** JSON with object keys sorted, so equal content gives equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The issue for an expression that cannot be evaluated: severity error, code `exception` (a fault
 * in the Questionnaire's logic, not in the response), located in the Questionnaire, naming the item
 * and carrying the expression text in `diagnostics`.
 * @param def - the expression.
 * @param reason - what went wrong.
 */
export function expressionIssue(def: ExpressionDef, reason: string): OperationOutcomeIssue {
  const owner = def.linkId === undefined ? 'of the Questionnaire' : `of item '${def.linkId}'`;
  const what = def.kind === 'variable' ? `variable '${def.name ?? '?'}'` : def.kind;
  return {
    ...issue('error', 'exception', `${what} ${owner} failed: ${reason}`, def.location),
    diagnostics: def.text,
  };
}
