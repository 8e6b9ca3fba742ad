import type { Questionnaire, QuestionnaireItem, QuestionnaireItemEnableWhen } from '@medplum/fhirtypes';
import { SDC_EXTENSION } from '../constants';
import { parse } from 'fhirpath';
import { compileFhirPath } from '../fhirpath/fhirpath';
import { isObject } from '../json';
import { LruCache } from '../lru';
import type { TypedValue, ValueType } from './values';
import { allowedAnswerTypes, arrayOf, cloneJson, singleValueOf, typedValuesOf } from './values';

/** Core (non-SDC) extensions on Questionnaire.item that constrain answers. See: https://hl7.org/fhir/uv/sdc/STU4/behavior.html */
export const ITEM_EXTENSION = {
  minValue: 'http://hl7.org/fhir/StructureDefinition/minValue',
  maxValue: 'http://hl7.org/fhir/StructureDefinition/maxValue',
  minLength: 'http://hl7.org/fhir/StructureDefinition/minLength',
  maxDecimalPlaces: 'http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces',
  regex: 'http://hl7.org/fhir/StructureDefinition/regex',
  minOccurs: 'http://hl7.org/fhir/StructureDefinition/questionnaire-minOccurs',
  maxOccurs: 'http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs',
  initialExpression: 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-initialExpression',
} as const;

/** Where an expression comes from. */
export type ExpressionKind = 'variable' | 'calculatedExpression' | 'enableWhenExpression';

/**
 * A `%resource.repeat(item).where(linkId='x')` (or `descendants()`, or the top-level `item`) step
 * replaced by a pre-indexed variable.
 */
export interface LinkIdLookup {
  /** Name of the environment variable that replaces the step. */
  readonly varName: string;
  readonly linkId: string;
  readonly axis: 'repeat' | 'descendants' | 'item';
}

/** A clock function replaced by an injected value. */
export type ClockUse = 'today' | 'now' | 'timeOfDay';

/** One SDC Expression from the Questionnaire, analysed once. */
export interface ExpressionDef {
  readonly kind: ExpressionKind;
  /** `Expression.name` (variables always have one). */
  readonly name: string | undefined;
  /** The expression as written. */
  readonly text: string;
  /** FHIRPath location of the extension in the Questionnaire. */
  readonly location: string;
  /** linkId of the item carrying it; undefined at Questionnaire level. */
  readonly linkId: string | undefined;
  /** User variables it references (`%name`), without built-ins. */
  readonly refs: readonly string[];
  /** Why it cannot be evaluated (unsupported language, no name, ...). */
  readonly problem: string | undefined;
  /** The text actually compiled: linkId look-ups and clock calls replaced by variables. */
  readonly source: string;
  readonly lookups: readonly LinkIdLookup[];
  readonly clock: readonly ClockUse[];
  /**
   * True when the expression reads its context (the response, or the item it is evaluated on)
   * other than through variables and rewritten linkId look-ups, so its result can change whenever
   * the response changes. Otherwise it depends only on its look-ups and variables.
   */
  readonly readsContext: boolean;
  /**
   * Like {@link readsContext}, but reads of the response's own elements other than `item`
   * (`%resource.status`, `%resource.author`) do not count: the SDC calculation writes only items, so
   * such a read gives the same result in every pass. When false, a result can be reused across
   * passes while its look-ups and variables are unchanged.
   */
  readonly readsItems: boolean;
  /** True when the result depends only on the Questionnaire: no variables, look-ups, clock or context. */
  readonly isConstant: boolean;
}

/** A Questionnaire item with everything the response machinery needs, parsed once. */
export interface QItem {
  /** The item (from a private copy of the Questionnaire). */
  readonly item: QuestionnaireItem;
  readonly linkId: string;
  readonly type: string;
  readonly text: string | undefined;
  readonly parent: QItem | undefined;
  readonly children: readonly QItem[];
  readonly childByLinkId: ReadonlyMap<string, QItem>;
  /** Index among its siblings. */
  readonly siblingIndex: number;
  /** Preorder index over the whole Questionnaire. */
  readonly order: number;
  /** FHIRPath location in the Questionnaire, e.g. `Questionnaire.item[1].item[0]`. */
  readonly location: string;
  readonly repeats: boolean;
  readonly required: boolean;
  readonly readOnly: boolean;
  readonly hidden: boolean;
  readonly enableWhen: readonly QuestionnaireItemEnableWhen[];
  readonly enableBehavior: 'all' | 'any' | undefined;
  readonly enableWhenExpression: ExpressionDef | undefined;
  readonly variables: readonly ExpressionDef[];
  /**
   * True when this item or an ancestor defines variables; when false, its expressions see only the
   * Questionnaire's variables.
   */
  readonly variablesAbove: boolean;
  readonly calculated: ExpressionDef | undefined;
  readonly hasInitialExpression: boolean;
  /** True when this item or a descendant carries a calculatedExpression. */
  readonly calculatedInside: boolean;
  readonly optionValues: readonly TypedValue[];
  /** Values selected initially: `initial.value[x]` and answerOptions with `initialSelected`. */
  readonly initialValues: readonly TypedValue[];
  readonly answerValueSet: string | undefined;
  /** Answer types allowed; undefined for an unknown item type. */
  readonly allowedTypes: ReadonlySet<ValueType> | undefined;
  readonly minValue: TypedValue | undefined;
  readonly maxValue: TypedValue | undefined;
  readonly maxLength: number | undefined;
  readonly minLength: number | undefined;
  readonly maxDecimalPlaces: number | undefined;
  readonly regex: RegExp | undefined;
  readonly minOccurs: number | undefined;
  readonly maxOccurs: number | undefined;
  /**
   * The Coding answerOptions by code (options whose code is a string): a Coding answer can match
   * only those with its code (see `valuesEqual`).
   */
  readonly optionCodingsByCode: ReadonlyMap<string, readonly TypedValue[]>;
  /** True when any of minValue, maxValue, maxLength, minLength, maxDecimalPlaces or regex is set. */
  readonly hasLimits: boolean;
}

/** A Questionnaire prepared for response processing. */
export interface CompiledQuestionnaire {
  /** Private copy of the Questionnaire: expressions see it as `%questionnaire`. */
  readonly questionnaire: Questionnaire;
  readonly roots: readonly QItem[];
  readonly rootByLinkId: ReadonlyMap<string, QItem>;
  /** First item with each linkId in document order. */
  readonly byLinkId: ReadonlyMap<string, QItem>;
  /** Every item in document order. */
  readonly all: readonly QItem[];
  /** Questionnaire-level variables in document order. */
  readonly variables: readonly ExpressionDef[];
  /** Items with a calculatedExpression, in document order. */
  readonly calculated: readonly QItem[];
  /** True when some item has enableWhen or enableWhenExpression. */
  readonly hasConditions: boolean;
  /**
   * True when some item has an enableWhenExpression: only then does deciding enablement evaluate
   * FHIRPath on the response (plain enableWhen compares answers directly).
   */
  readonly hasEnableWhenExpressions: boolean;
  /** True when some item, or the Questionnaire, carries any expression. */
  readonly hasExpressions: boolean;
  /**
   * Results of expressions that depend on nothing but the Questionnaire (constants such as
   * thresholds), keyed by expression location; filled on first evaluation.
   */
  readonly constants: Map<string, unknown[]>;
}

const cache = new WeakMap<Questionnaire, CompiledQuestionnaire>();
let compilations = 0;

/** How many Questionnaires this process has compiled (cache misses): lets tests prove reuse. */
export function questionnaireCompilations(): number {
  return compilations;
}

/**
 * Prepares a Questionnaire once (cached per object): item tree, answer constraints, and every SDC
 * expression analysed for the variables it uses. The Questionnaire is copied, so the caller's
 * object is never touched by FHIRPath evaluation.
 * See: https://hl7.org/fhir/uv/sdc/STU4/expressions.html
 * @param questionnaire - any R4 Questionnaire.
 */
export function compileQuestionnaire(questionnaire: Questionnaire): CompiledQuestionnaire {
  const cached = cache.get(questionnaire);
  if (cached) {
    return cached;
  }
  compilations++;
  const copy = cloneJson(isObject(questionnaire) ? questionnaire : ({} as Questionnaire));
  const all: QItem[] = [];
  const byLinkId = new Map<string, QItem>();
  const calculated: QItem[] = [];
  let hasConditions = false;
  let hasEnableWhenExpressions = false;
  let hasExpressions = false;

  const build = (items: unknown, base: string, parent: QItem | undefined): QItem[] => {
    const result: QItem[] = [];
    arrayOf(items).forEach((raw, index) => {
      if (!isObject(raw)) {
        return;
      }
      const item = raw as unknown as QuestionnaireItem;
      const location = `${base}.item[${index}]`;
      const linkId = typeof item.linkId === 'string' ? item.linkId : '';
      const type = typeof item.type === 'string' ? item.type : '';
      const ext = extensionsOf(raw);
      const exprs = expressionsOf(item, location, linkId);
      const optionValues = arrayOf(item.answerOption)
        .map((o) => singleValueOf(o, 'value'))
        .filter((v): v is TypedValue => v !== undefined);
      const initialValues = [
        ...arrayOf(item.initial).flatMap((i) => typedValuesOf(i, 'value')),
        ...arrayOf(item.answerOption)
          .filter((o) => isObject(o) && o.initialSelected === true)
          .map((o) => singleValueOf(o, 'value'))
          .filter((v): v is TypedValue => v !== undefined),
      ];
      const limits = {
        minValue: ext.value(ITEM_EXTENSION.minValue),
        maxValue: ext.value(ITEM_EXTENSION.maxValue),
        maxLength: typeof item.maxLength === 'number' ? item.maxLength : undefined,
        minLength: ext.integer(ITEM_EXTENSION.minLength),
        maxDecimalPlaces: ext.integer(ITEM_EXTENSION.maxDecimalPlaces),
        regex: ext.regex(ITEM_EXTENSION.regex),
      };
      const children: QItem[] = [];
      const q: QItem = {
        item,
        linkId,
        type,
        text: typeof item.text === 'string' ? item.text : undefined,
        parent,
        children,
        childByLinkId: new Map(),
        siblingIndex: index,
        order: all.length,
        location,
        repeats: item.repeats === true,
        required: item.required === true,
        readOnly: item.readOnly === true,
        hidden: ext.boolean(SDC_EXTENSION.hidden) === true,
        enableWhen: arrayOf(item.enableWhen).filter(isObject) as unknown as QuestionnaireItemEnableWhen[],
        enableBehavior:
          item.enableBehavior === 'all' || item.enableBehavior === 'any' ? item.enableBehavior : undefined,
        enableWhenExpression: exprs.enableWhenExpression,
        variables: exprs.variables,
        variablesAbove: exprs.variables.length > 0 || parent?.variablesAbove === true,
        calculated: exprs.calculated,
        hasInitialExpression: ext.has(ITEM_EXTENSION.initialExpression),
        calculatedInside: false,
        optionValues,
        initialValues,
        answerValueSet: typeof item.answerValueSet === 'string' ? item.answerValueSet : undefined,
        allowedTypes: allowedAnswerTypes(
          type,
          optionValues.map((v) => v.type)
        ),
        ...limits,
        minOccurs: ext.integer(ITEM_EXTENSION.minOccurs),
        maxOccurs: ext.integer(ITEM_EXTENSION.maxOccurs),
        optionCodingsByCode: codingsByCode(optionValues),
        hasLimits: Object.values(limits).some((limit) => limit !== undefined),
      };
      all.push(q);
      if (!byLinkId.has(linkId)) {
        byLinkId.set(linkId, q);
      }
      if (q.calculated) {
        calculated.push(q);
      }
      if (q.enableWhen.length > 0 || q.enableWhenExpression) {
        hasConditions = true;
      }
      if (q.enableWhenExpression) {
        hasEnableWhenExpressions = true;
      }
      if (q.enableWhenExpression || q.calculated || q.variables.length > 0) {
        hasExpressions = true;
      }
      children.push(...build(item.item, location, q));
      const childMap = q.childByLinkId as Map<string, QItem>;
      for (const c of children) {
        if (!childMap.has(c.linkId)) {
          childMap.set(c.linkId, c);
        }
      }
      if (q.calculated || children.some((c) => c.calculatedInside)) {
        (q as { calculatedInside: boolean }).calculatedInside = true;
      }
      result.push(q);
    });
    return result;
  };

  const roots = build(copy.item, 'Questionnaire', undefined);
  const rootByLinkId = new Map<string, QItem>();
  for (const r of roots) {
    if (!rootByLinkId.has(r.linkId)) {
      rootByLinkId.set(r.linkId, r);
    }
  }
  const variables = variablesOf(copy, 'Questionnaire', undefined);
  const compiled: CompiledQuestionnaire = {
    questionnaire: copy,
    roots,
    rootByLinkId,
    byLinkId,
    all,
    variables,
    calculated,
    hasConditions,
    hasEnableWhenExpressions,
    hasExpressions: hasExpressions || variables.length > 0,
    constants: new Map(),
  };
  if (compiled.hasExpressions) {
    stampTypes(copy);
  }
  if (isObject(questionnaire)) {
    cache.set(questionnaire, compiled);
  }
  return compiled;
}

function codingsByCode(options: readonly TypedValue[]): ReadonlyMap<string, readonly TypedValue[]> {
  const byCode = new Map<string, TypedValue[]>();
  for (const o of options) {
    if (o.type === 'Coding' && isObject(o.value) && typeof o.value.code === 'string') {
      const list = byCode.get(o.value.code);
      if (list) {
        list.push(o);
      } else {
        byCode.set(o.value.code, [o]);
      }
    }
  }
  return byCode;
}

/**
 * Lets `%qitem` resolve choice elements (`answerOption.value`): fhirpath.js keeps the FHIR type of
 * the nodes it returns (as a hidden property), so returning every item once types them all.
 */
function stampTypes(copy: Questionnaire): void {
  try {
    compileFhirPath('repeat(item)')(copy);
  } catch {
    // A malformed Questionnaire keeps untyped items; `%qitem` then sees fewer values.
  }
}

interface ExtensionReader {
  has(url: string): boolean;
  boolean(url: string): boolean | undefined;
  integer(url: string): number | undefined;
  value(url: string): TypedValue | undefined;
  regex(url: string): RegExp | undefined;
}

function extensionsOf(element: Record<string, unknown>): ExtensionReader {
  const exts = arrayOf(element.extension).filter(isObject);
  const find = (url: string): Record<string, unknown> | undefined => exts.find((e) => e.url === url);
  return {
    has: (url) => find(url) !== undefined,
    boolean: (url) => {
      const v = find(url)?.valueBoolean;
      return typeof v === 'boolean' ? v : undefined;
    },
    integer: (url) => {
      const v = find(url)?.valueInteger;
      return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
    },
    value: (url) => {
      const e = find(url);
      return e ? singleValueOf(e, 'value') : undefined;
    },
    regex: (url) => {
      const v = find(url)?.valueString;
      if (typeof v !== 'string') {
        return undefined;
      }
      try {
        return new RegExp(`^(?:${v})$`, 'u');
      } catch {
        return undefined;
      }
    },
  };
}

function expressionsOf(
  item: QuestionnaireItem,
  location: string,
  linkId: string
): { variables: ExpressionDef[]; calculated?: ExpressionDef; enableWhenExpression?: ExpressionDef } {
  const result: {
    variables: ExpressionDef[];
    calculated?: ExpressionDef;
    enableWhenExpression?: ExpressionDef;
  } = {
    variables: variablesOf(item, location, linkId),
  };
  arrayOf(item.extension).forEach((e, i) => {
    if (!isObject(e)) {
      return;
    }
    if (e.url === SDC_EXTENSION.calculatedExpression && !result.calculated) {
      result.calculated = analyse(
        'calculatedExpression',
        e.valueExpression,
        `${location}.extension[${i}]`,
        linkId
      );
    } else if (e.url === SDC_EXTENSION.enableWhenExpression && !result.enableWhenExpression) {
      result.enableWhenExpression = analyse(
        'enableWhenExpression',
        e.valueExpression,
        `${location}.extension[${i}]`,
        linkId
      );
    }
  });
  return result;
}

function variablesOf(element: object, location: string, linkId: string | undefined): ExpressionDef[] {
  const seen = new Set<string>();
  const result: ExpressionDef[] = [];
  // Population-time variables ($populate: x-fhir-query searches of the record, and what is computed from
  // them or from the launch context) have no value when a completed response is processed: skipped here.
  const population = new Set<string>(LAUNCH_CONTEXT_NAMES);
  arrayOf((element as Record<string, unknown>).extension).forEach((e, i) => {
    if (!isObject(e) || e.url !== SDC_EXTENSION.variable) {
      return;
    }
    const raw = isObject(e.valueExpression) ? e.valueExpression : {};
    if (raw.language === X_FHIR_QUERY) {
      if (typeof raw.name === 'string') {
        population.add(raw.name);
      }
      return;
    }
    let def = analyse('variable', e.valueExpression, `${location}.extension[${i}]`, linkId);
    if (def.name !== undefined && def.refs.some((r) => population.has(r))) {
      population.add(def.name);
      return;
    }
    if (def.name === undefined) {
      def = { ...def, problem: def.problem ?? 'variable has no name' };
    } else if (RESERVED.has(def.name)) {
      def = { ...def, problem: def.problem ?? `variable name '${def.name}' is reserved` };
    } else if (seen.has(def.name)) {
      // SDC: defining the same name twice on one node is an error; the first definition wins.
      def = { ...def, problem: def.problem ?? `variable '${def.name}' is defined twice on the same node` };
    }
    if (def.name !== undefined) {
      seen.add(def.name);
    }
    result.push(def);
  });
  return result;
}

/** SDC launch contexts (`sdc-questionnaire-launchContext`): bound only while pre-filling. */
const LAUNCH_CONTEXT_NAMES = ['patient', 'user', 'encounter'];
const X_FHIR_QUERY = 'application/x-fhir-query';

/** Names FHIRPath or SDC define; never user variables. */
const RESERVED = new Set([
  'resource',
  'rootResource',
  'context',
  'questionnaire',
  'qitem',
  'ucum',
  'sct',
  'loinc',
  'factory',
  'terminologies',
]);

function isBuiltIn(name: string): boolean {
  return RESERVED.has(name) || name.startsWith('vs-') || name.startsWith('ext-') || name.startsWith('rf-');
}

function analyse(
  kind: ExpressionKind,
  raw: unknown,
  location: string,
  linkId: string | undefined
): ExpressionDef {
  const expr = isObject(raw) ? raw : {};
  const name = typeof expr.name === 'string' && expr.name.length > 0 ? expr.name : undefined;
  const text = typeof expr.expression === 'string' ? expr.expression : '';
  const language = typeof expr.language === 'string' ? expr.language : '';
  let problem: string | undefined;
  if (language !== 'text/fhirpath') {
    problem = `expression language '${language}' is not supported (only text/fhirpath)`;
  } else if (text.trim() === '') {
    problem = 'expression is empty';
  }
  const { scan, reads: parsed } = analysisOf(text);
  const reads = problem === undefined ? parsed : { context: true, items: true };
  return {
    readsContext: reads.context,
    readsItems: reads.items,
    isConstant:
      !reads.context && scan.refs.length === 0 && scan.lookups.length === 0 && scan.clock.length === 0,
    kind,
    name,
    text,
    location,
    linkId,
    refs: scan.refs,
    problem,
    source: scan.source,
    lookups: scan.lookups,
    clock: scan.clock,
  };
}

interface Analysis {
  readonly scan: ReturnType<typeof scanExpression>;
  readonly reads: ContextReads;
}

/**
 * What an expression text reads, by text: parsing dominates compiling a Questionnaire, a
 * Questionnaire repeats texts (one rule on several items), and another object with the same
 * content (a Questionnaire sent inline) repeats them all. Bounded, and long texts are not kept.
 */
const analyses = new LruCache<string, Analysis>(512);
const MAX_CACHED_TEXT = 4096;

function analysisOf(text: string): Analysis {
  const known = analyses.get(text);
  if (known) {
    return known;
  }
  const scan = scanExpression(text);
  const analysis: Analysis = { scan, reads: contextReads(scan.source) };
  if (text.length <= MAX_CACHED_TEXT) {
    analyses.set(text, analysis);
  }
  return analysis;
}

const LOOKUP_RE =
  /%resource\s*\.\s*(repeat\s*\(\s*item\s*\)|descendants\s*\(\s*\)|item)\s*\.\s*where\s*\(\s*linkId\s*=\s*'([^'\\`]*)'\s*\)/y;
const CLOCK_RE = /(today|now|timeOfDay)\s*\(\s*\)/y;
const CLOCK_SOURCE: Readonly<Record<ClockUse, string>> = {
  today: '%`rf-clock:today`.toDate()',
  now: '%`rf-clock:now`.toDateTime()',
  timeOfDay: '%`rf-clock:time`.toTime()',
};

/** Name of the environment variable holding a clock value. */
export const CLOCK_VARIABLE: Readonly<Record<ClockUse, string>> = {
  today: 'rf-clock:today',
  now: 'rf-clock:now',
  timeOfDay: 'rf-clock:time',
};

/**
 * Scans an expression outside string literals, delimited identifiers and comments: collects the
 * `%names` it uses, and rewrites two things. (1) `%resource.repeat(item).where(linkId='x')`,
 * `%resource.descendants().where(linkId='x')` and `%resource.item.where(linkId='x')` become a
 * variable filled from one index built per response, so an expression does not walk the whole
 * response again: the variable holds exactly the nodes the step would select, in the same order.
 * The expression then depends on item `x` (tracked across calculation passes) instead of reading
 * the whole response. (2) `today()`, `now()` and `timeOfDay()`
 * become variables filled from the injected clock, keeping the core free of the system clock.
 * @param text - the FHIRPath expression.
 */
export function scanExpression(text: string): {
  refs: string[];
  source: string;
  lookups: LinkIdLookup[];
  clock: ClockUse[];
} {
  const refs = new Set<string>();
  const lookups = new Map<string, LinkIdLookup>();
  const clock = new Set<ClockUse>();
  let source = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === "'" || ch === '`') {
      const end = skipQuoted(text, i, ch);
      source += text.slice(i, end);
      i = end;
      continue;
    }
    if (ch === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      source += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      source += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '%') {
      LOOKUP_RE.lastIndex = i;
      const m = LOOKUP_RE.exec(text);
      if (m) {
        const axis = m[1]!.startsWith('repeat')
          ? 'repeat'
          : m[1]!.startsWith('descendants')
            ? 'descendants'
            : 'item';
        const linkId = m[2]!;
        const varName = `rf-${axis}:${linkId}`;
        lookups.set(varName, { varName, linkId, axis });
        source += `%\`${varName}\``;
        i = LOOKUP_RE.lastIndex;
        continue;
      }
      const next = text[i + 1];
      if (next === '`' || next === "'") {
        const end = skipQuoted(text, i + 1, next);
        refs.add(unquote(text.slice(i + 2, end - 1)));
        source += text.slice(i, end);
        i = end;
        continue;
      }
      const id = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i + 1));
      if (id) {
        // '-' is legal in SDC names such as %vs-foo; FHIRPath treats a bare '-' as minus, so only
        // keep it when the name is one of the dashed built-ins.
        const name = id[0].includes('-') && !isBuiltIn(id[0]) ? id[0].split('-')[0]! : id[0];
        refs.add(name);
        source += `%${name}`;
        i += 1 + name.length;
        continue;
      }
    }
    if (/[A-Za-z]/.test(ch) && (i === 0 || !/[A-Za-z0-9_.%`]/.test(text[i - 1]!))) {
      CLOCK_RE.lastIndex = i;
      const m = CLOCK_RE.exec(text);
      if (m) {
        const use = m[1] as ClockUse;
        clock.add(use);
        source += CLOCK_SOURCE[use];
        i = CLOCK_RE.lastIndex;
        continue;
      }
      const word = /^[A-Za-z0-9_]+/.exec(text.slice(i))![0];
      source += word;
      i += word.length;
      continue;
    }
    source += ch;
    i++;
  }
  return {
    refs: [...refs].filter((r) => !isBuiltIn(r)),
    source,
    lookups: [...lookups.values()],
    clock: [...clock],
  };
}

function skipQuoted(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === '\\') {
      i += 2;
      continue;
    }
    if (text[i] === quote) {
      return i + 1;
    }
    i++;
  }
  return text.length;
}

function unquote(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

interface AstNode {
  readonly type: string;
  readonly text?: string;
  readonly children?: readonly AstNode[];
}

/** Variables whose value is the response or the item being evaluated. */
const CONTEXT_CONSTANTS = new Set(['resource', 'rootResource', 'context']);
/** Functions that ignore their input collection (only their arguments matter). */
const INPUT_FREE_FUNCTIONS = new Set(['iif', 'today', 'now', 'timeOfDay']);

/**
 * Static check on the parse tree (fhirpath.js's parser; evaluation still goes through
 * ../fhirpath/fhirpath.ts): does the expression read the evaluation context? A path that starts
 * with a name, a function or `$this` reads the current focus, which is the context at the top level
 * and inside the arguments of a function applied to the context; `%resource` and `%context` read
 * it directly. Unparsable expressions count as reading it.
 * @param source - the (rewritten) expression.
 */
export function readsContext(source: string): boolean {
  return contextReads(source).context;
}

/**
 * Static check: may the expression read the response's items (see {@link ExpressionDef.readsItems})?
 * As {@link readsContext}, except that `%resource.name` with a member other than `item` is a read
 * of an element the calculation never changes. Unparsable expressions count as reading items.
 * @param source - the (rewritten) expression.
 */
export function readsItems(source: string): boolean {
  return contextReads(source).items;
}

interface ContextReads {
  readonly context: boolean;
  readonly items: boolean;
}

function contextReads(source: string): ContextReads {
  let ast: AstNode;
  try {
    ast = parse(source) as AstNode;
  } catch {
    return { context: true, items: true };
  }
  return { context: reads(ast, true, false), items: reads(ast, true, true) };
}

/**
 * @param n - parse tree node.
 * @param focusIsContext - whether the focus here is the evaluation context.
 * @param itemsOnly - when true, `%resource.member` (member other than `item`) is not a read.
 */
function reads(n: AstNode, focusIsContext: boolean, itemsOnly: boolean): boolean {
  const children = n.children ?? [];
  switch (n.type) {
    case 'ExternalConstantTerm':
      return CONTEXT_CONSTANTS.has(constantName(n));
    case 'InvocationTerm': {
      const inv = children[0];
      if (inv?.type === 'FunctionInvocation') {
        const name = functionName(inv);
        return (
          (focusIsContext && !INPUT_FREE_FUNCTIONS.has(name)) ||
          params(inv).some((p) => reads(p, focusIsContext, itemsOnly))
        );
      }
      return focusIsContext;
    }
    case 'InvocationExpression': {
      const [left, right] = children;
      if (itemsOnly && left && right && isResourceConstant(left) && isStableMember(right)) {
        return false;
      }
      if (left && reads(left, focusIsContext, itemsOnly)) {
        return true;
      }
      // Arguments of a function applied to a computed collection see that collection's items.
      return right?.type === 'FunctionInvocation'
        ? params(right).some((p) => reads(p, false, itemsOnly))
        : false;
    }
    default:
      return children.some((c) => reads(c, focusIsContext, itemsOnly));
  }
}

/** `%resource` alone (a term, not inside a longer path). */
function isResourceConstant(n: AstNode): boolean {
  const term = n.type === 'TermExpression' ? n.children?.[0] : undefined;
  return term?.type === 'ExternalConstantTerm' && constantName(term) === 'resource';
}

/** `.name` for a response element the calculation never writes: any member but `item`. */
function isStableMember(n: AstNode): boolean {
  if (n.type !== 'MemberInvocation') {
    return false;
  }
  const text = n.children?.find((c) => c.type === 'Identifier')?.text;
  if (text === undefined) {
    return false;
  }
  // A delimited name with escapes could spell `item`: counted as a read.
  if (text.includes('\\')) {
    return false;
  }
  const name = /^`.*`$/.test(text) ? text.slice(1, -1) : text;
  return name !== 'item';
}

function constantName(n: AstNode): string {
  let x: AstNode | undefined = n;
  while (x && x.text === undefined) {
    x = x.children?.[0];
  }
  const text = x?.text ?? '';
  return /^[`'].*[`']$/.test(text) ? text.slice(1, -1) : text;
}

function functionName(inv: AstNode): string {
  return inv.children?.[0]?.children?.find((c) => c.type === 'Identifier')?.text ?? '';
}

function params(inv: AstNode): readonly AstNode[] {
  return inv.children?.[0]?.children?.find((c) => c.type === 'ParamList')?.children ?? [];
}
