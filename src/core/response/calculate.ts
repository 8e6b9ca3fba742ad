import type {
  Coding,
  OperationOutcomeIssue,
  Questionnaire,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
} from '@medplum/fhirtypes';
import { SYSTEM } from '../constants';
import { isObject } from '../json';
import { issue, issueCollector } from '../outcomes';
import { Enablement } from './enable-when';
import type { ExpressionOptions } from './expressions';
import { EvaluationMemo, ExpressionSession } from './expressions';
import type { CompiledQuestionnaire, QItem } from './questionnaire-model';
import { compileQuestionnaire } from './questionnaire-model';
import { layoutAllowsOnePass, settlesInOnePass } from './one-pass';
import type { Container, ResponseNode } from './response-tree';
import { hasValue, ResponseTree } from './response-tree';
import type { ValueType } from './values';
import { ANSWER_KEY, arrayOf, cloneJson, isWellFormed, jsonEqual } from './values';

/** Options for {@link calculateResponse}. */
export interface CalculateOptions extends ExpressionOptions {
  /** Maximum number of evaluation passes before giving up on a settling state (default 8). */
  readonly maxPasses?: number;
}

/** Result of {@link calculateResponse}. */
export interface CalculateResult {
  /** The completed response: a new object; the input is never modified. */
  readonly response: QuestionnaireResponse;
  /**
   * Information issues for submitted calculated values that were replaced or removed, and errors
   * for expressions that failed or results that cannot be answers, and for a calculation that did
   * not settle.
   */
  readonly issues: OperationOutcomeIssue[];
  /**
   * Evaluation passes (the last one confirms nothing changes; when that pass is ruled out in
   * advance, see one-pass.ts, it is counted but not run).
   */
  readonly passes: number;
}

interface Write {
  readonly node: ResponseNode;
  /** New answers; undefined removes them (and the item when nothing else is left in it). */
  readonly answers: QuestionnaireResponseItemAnswer[] | undefined;
}

const DEFAULT_MAX_PASSES = 8;

/**
 * Completes a response the way an SDC form filler does before submission: evaluates the
 * Questionnaire's `variable`s and every `calculatedExpression`, and writes the results as answers.
 *
 * - Questionnaire-level variables run with the response as context; item-level variables per item
 *   instance with that item as context, visible to the item and its descendants.
 * - Each calculated item is evaluated once per instance (per instance of an enclosing repeating
 *   group; per answer when nested under a question). The result becomes the answers, typed by the
 *   item type (FHIRPath's implicit conversions allowed: integer → decimal/quantity, date → dateTime);
 *   several results only when the item repeats. An empty result removes the answers, and the item
 *   when nothing else is left in it (and then any group left empty). A missing item is created,
 *   with missing non-repeating parent groups, at its Questionnaire position. A disabled calculated
 *   item gets no answers. A failed expression or an unusable result also leaves the item without
 *   answers (the engine cannot vouch for a client's value) and is reported.
 * - Passes repeat until nothing changes (calculated items may depend on each other), up to
 *   `maxPasses`. Each pass evaluates against the state left by the previous one. If it does not
 *   settle, the items still changing lose their answers and an error is reported. When one pass is
 *   provably the fixed point (one-pass.ts), the confirming pass is not run.
 * - Submitted values are replaced even on items that are not read-only (this engine recomputes;
 *   SDC lets a form filler keep user overrides, see the report issues to spot them).
 * See: https://hl7.org/fhir/uv/sdc/STU4/expressions.html#calculatedExpression
 * @param response - the submitted response (not modified).
 * @param questionnaire - its Questionnaire.
 * @param options - clock and pass limit.
 */
export function calculateResponse(
  response: QuestionnaireResponse,
  questionnaire: Questionnaire,
  options: CalculateOptions = {}
): CalculateResult {
  const cq = compileQuestionnaire(questionnaire);
  if (cq.calculated.length === 0) {
    return { response: cloneJson(response), issues: [], passes: 0 };
  }
  const maxPasses = Math.max(1, options.maxPasses ?? DEFAULT_MAX_PASSES);
  const working = cloneJson(isObject(response) ? response : ({} as QuestionnaireResponse));
  if (maxPasses >= 2 && settlesInOnePass(cq)) {
    const tree = new ResponseTree(working, cq);
    if (layoutAllowsOnePass(tree, cq)) {
      return calculateInOnePass(working, tree, cq, options);
    }
  }
  return calculateInPasses(working, cq, options, maxPasses);
}

/**
 * The calculation when one pass is provably its fixed point (see one-pass.ts): the first pass of
 * {@link calculateInPasses} without the settling pass, which would evaluate and write nothing. It
 * counts that pass in `passes`, as the loop does. No results are kept for a next pass.
 */
function calculateInOnePass(
  working: QuestionnaireResponse,
  tree: ResponseTree,
  cq: CompiledQuestionnaire,
  options: ExpressionOptions
): CalculateResult {
  const { issues, report } = issueCollector();
  const session = new ExpressionSession(cq, tree, options, report);
  const writes = computeWrites(cq, tree, session, new Enablement(tree, session, report), report);
  const submitted = submittedValues(tree, cq);
  if (writes.length === 0) {
    reportReplacedValues(submitted, tree, report);
    return { response: session.touchedResponse ? cloneJson(working) : working, issues, passes: 1 };
  }
  applyWrites(working, cq, writes);
  // Every calculated item has one node, so the writes say what each submitted value became. The
  // submitted values were read from this tree's nodes: the same node objects, so no keys are spelled.
  const written = new Map<ResponseNode, Write>();
  for (const w of writes) {
    written.set(w.node, w);
  }
  reportChanges(
    submitted,
    (node) => {
      const w = written.get(node);
      return w === undefined ? undefined : valuesOf(w.answers);
    },
    report
  );
  // A fresh copy drops the hidden metadata fhirpath.js attached during the pass.
  return { response: cloneJson(working), issues, passes: 2 };
}

/**
 * The calculation as passes that repeat until nothing changes (see {@link calculateResponse}).
 * Exported for tests, which hold the one-pass shortcut equal to it.
 * @param start - a private copy of the response, written in place.
 * @param cq - its compiled Questionnaire (with calculated items).
 * @param options - clock.
 * @param maxPasses - at least 1.
 */
export function calculateInPasses(
  start: QuestionnaireResponse,
  cq: CompiledQuestionnaire,
  options: ExpressionOptions,
  maxPasses: number
): CalculateResult {
  const { issues, report } = issueCollector();
  let working = start;
  const memo = new EvaluationMemo();
  let passes = 0;
  let lastWrites: Write[] = [];
  let settled: ResponseTree | undefined;
  // Whether `working` may carry fhirpath.js's hidden metadata (it was evaluated on since its copy).
  let marked = false;
  // The submitted calculated answers, read from the first pass's copy before it is written.
  let submitted: readonly Submitted[] = [];
  while (passes < maxPasses) {
    passes++;
    if (passes > 1) {
      memo.nextPass(changedLinkIds(lastWrites));
    }
    const tree = new ResponseTree(working, cq);
    const session = new ExpressionSession(cq, tree, options, report, memo);
    const enablement = new Enablement(tree, session, report);
    const writes = computeWrites(cq, tree, session, enablement, report);
    marked = session.touchedResponse;
    if (passes === 1) {
      submitted = submittedValues(tree, cq);
    }
    if (writes.length === 0) {
      settled = tree;
      break;
    }
    applyWrites(working, cq, writes);
    // A fresh copy drops the hidden metadata fhirpath.js attached during this pass.
    working = cloneJson(working);
    lastWrites = writes;
  }

  if (!settled) {
    const tree = new ResponseTree(working, cq);
    const unsettled = lastWrites
      .map((w) => tree.nodeByKey(w.node.key))
      .filter((n): n is ResponseNode => n !== undefined && n.q?.calculated !== undefined);
    applyWrites(
      working,
      cq,
      unsettled.map((node) => ({ node, answers: undefined }))
    );
    working = cloneJson(working);
    const linkIds = [...new Set(lastWrites.map((w) => w.node.linkId))];
    report(
      issue(
        'error',
        'processing',
        `calculation did not settle after ${maxPasses} passes; items ${linkIds.map((l) => `'${l}'`).join(', ')} kept changing and were left without answers`,
        'Questionnaire'
      )
    );
  }

  reportReplacedValues(submitted, settled ?? new ResponseTree(working, cq), report);
  // A settling pass that reused every result evaluated nothing on its copy: it is clean as it is.
  return { response: settled && marked ? cloneJson(working) : working, issues, passes };
}

/** linkIds a pass changed: the written items and every item enclosing them. */
function changedLinkIds(writes: readonly Write[]): Set<string> {
  const changed = new Set<string>();
  for (const w of writes) {
    for (let n: ResponseNode | undefined = w.node; n; n = n.container.node) {
      changed.add(n.linkId);
    }
  }
  return changed;
}

function computeWrites(
  cq: CompiledQuestionnaire,
  tree: ResponseTree,
  session: ExpressionSession,
  enablement: Enablement,
  report: (i: OperationOutcomeIssue) => void
): Write[] {
  const writes: Write[] = [];
  for (const q of cq.calculated) {
    if (q.type === 'group' || q.type === 'display') {
      report(
        issue(
          'error',
          'processing',
          `calculatedExpression of item '${q.linkId}' is ignored: a ${q.type} item has no answers`,
          q.calculated!.location
        )
      );
      continue;
    }
    for (const container of tree.containersFor(q)) {
      for (const node of tree.instancesIn(container, q)) {
        let answers: QuestionnaireResponseItemAnswer[] | undefined;
        if (enablement.isEnabled(node)) {
          const result = session.evaluate(q.calculated!, node);
          answers = result === undefined ? undefined : toAnswers(result, q, report);
        }
        if (needsWrite(node, answers)) {
          writes.push({ node, answers });
        }
      }
    }
  }
  return writes;
}

/** Whether the node's current state differs from the computed answers. */
function needsWrite(node: ResponseNode, answers: QuestionnaireResponseItemAnswer[] | undefined): boolean {
  if (node.virtual) {
    return answers !== undefined;
  }
  if (answers === undefined) {
    // An item without answers is removed, unless it still holds nested items.
    return node.item.answer !== undefined || arrayOf(node.item.item).length === 0;
  }
  return !sameValues(node.item.answer, answers);
}

/** `jsonEqual(valuesOf(a), valuesOf(b))` without copying the answers. */
function sameValues(a: unknown, b: unknown): boolean {
  const xs = arrayOf(a);
  const ys = arrayOf(b);
  let j = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (!hasValue(x)) {
      continue;
    }
    while (j < ys.length && !hasValue(ys[j])) {
      j++;
    }
    if (
      j === ys.length ||
      !equalWithoutItem(x as Record<string, unknown>, ys[j] as Record<string, unknown>)
    ) {
      return false;
    }
    j++;
  }
  while (j < ys.length && !hasValue(ys[j])) {
    j++;
  }
  return j === ys.length;
}

/** JSON equality of two answers, leaving out their nested `item` (as a copy without it would). */
function equalWithoutItem(x: Record<string, unknown>, y: Record<string, unknown>): boolean {
  let n = 0;
  for (const k of Object.keys(x)) {
    if (k === 'item') {
      continue;
    }
    n++;
    if (!Object.prototype.hasOwnProperty.call(y, k) || !jsonEqual(x[k], y[k])) {
      return false;
    }
  }
  return n === Object.keys(y).filter((k) => k !== 'item').length;
}

/** The values of answers, without nested items, for comparison. */
function valuesOf(answers: unknown): unknown[] {
  return arrayOf(answers)
    .filter(hasValue)
    .map((a) => {
      const value = { ...(a as QuestionnaireResponseItemAnswer) };
      delete value.item;
      return value;
    });
}

function toAnswers(
  result: unknown[],
  q: QItem,
  report: (i: OperationOutcomeIssue) => void
): QuestionnaireResponseItemAnswer[] | undefined {
  if (result.length === 0) {
    return undefined;
  }
  const location = q.calculated!.location;
  if (result.length > 1 && !q.repeats) {
    report(
      issue(
        'error',
        'processing',
        `calculatedExpression of item '${q.linkId}' gave ${result.length} values but the item does not repeat`,
        location
      )
    );
    return undefined;
  }
  const answers: QuestionnaireResponseItemAnswer[] = [];
  for (const r of result) {
    const answer = toAnswer(r, q);
    if (!answer) {
      report(
        issue(
          'error',
          'processing',
          `calculatedExpression of item '${q.linkId}' gave ${describe(r)}, which is not a valid ${q.type} answer`,
          location
        )
      );
      return undefined;
    }
    answers.push(answer);
  }
  return answers;
}

function describe(v: unknown): string {
  const text = typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Types tried, in order, for a primitive result on a choice item with non-Coding options. */
const CHOICE_PRIMITIVES: readonly ValueType[] = ['integer', 'date', 'time', 'string'];

/**
 * One FHIRPath result as an answer of the item's type, or undefined when it cannot be one.
 * See: https://hl7.org/fhirpath/N1/#conversion (implicit conversions)
 */
function toAnswer(r: unknown, q: QItem): QuestionnaireResponseItemAnswer | undefined {
  switch (q.type) {
    case 'boolean':
      return typed('boolean', r);
    case 'decimal':
      return typed('decimal', r);
    case 'integer':
      return typed('integer', r);
    case 'date':
      return typed('date', r);
    case 'dateTime':
      return typed('dateTime', r);
    case 'time':
      // FHIRPath drops zero seconds (@T10:00); FHIR time needs them.
      return typed('time', typeof r === 'string' && /^\d{2}:\d{2}$/.test(r) ? `${r}:00` : r);
    case 'string':
    case 'text':
      return typed('string', r);
    case 'url':
      return typed('uri', r);
    case 'choice':
    case 'open-choice': {
      if (isObject(r)) {
        return typed('Coding', pick(r, ['system', 'version', 'code', 'display', 'userSelected']));
      }
      if (q.type === 'open-choice' && typeof r === 'string') {
        return typed('string', r);
      }
      for (const t of CHOICE_PRIMITIVES) {
        if (q.allowedTypes?.has(t)) {
          const a = typed(t, r);
          if (a) {
            return a;
          }
        }
      }
      return undefined;
    }
    case 'quantity':
      return typed('Quantity', toQuantity(r));
    case 'reference':
      if (isObject(r) && typeof r.resourceType === 'string' && typeof r.id === 'string') {
        return typed('Reference', { reference: `${r.resourceType}/${r.id}` });
      }
      return isObject(r)
        ? typed('Reference', pick(r, ['reference', 'type', 'identifier', 'display']))
        : undefined;
    case 'attachment':
      return isObject(r) ? typed('Attachment', cloneJson(r)) : undefined;
    default:
      return undefined;
  }
}

/** The answer `{ value[x]: value }` when the value is a well-formed `type`, else undefined. */
function typed(type: ValueType, value: unknown): QuestionnaireResponseItemAnswer | undefined {
  if (!isWellFormed({ type, value })) {
    return undefined;
  }
  // Literal keys: each answer of a type gets the same object shape (a computed key does not).
  switch (type) {
    case 'boolean':
      return { valueBoolean: value as boolean };
    case 'decimal':
      return { valueDecimal: value as number };
    case 'integer':
      return { valueInteger: value as number };
    case 'date':
      return { valueDate: value as string };
    case 'string':
      return { valueString: value as string };
    case 'Coding':
      return { valueCoding: value as Coding };
    default:
      return { [ANSWER_KEY[type]]: value } as QuestionnaireResponseItemAnswer;
  }
}

function toQuantity(r: unknown): unknown {
  if (typeof r === 'number') {
    return { value: r };
  }
  if (isObject(r)) {
    return pick(r, ['value', 'comparator', 'unit', 'system', 'code']);
  }
  if (typeof r === 'string') {
    // fhirpath.js renders a Quantity as "5 'mg'" (UCUM unit) or "5 days" (calendar unit).
    const m = /^(-?\d+(?:\.\d+)?)\s*(?:'([^']*)'|([a-z]+))?$/.exec(r);
    if (m) {
      const unit = m[2] ?? m[3];
      return unit === undefined
        ? { value: Number(m[1]) }
        : { value: Number(m[1]), unit, system: SYSTEM.ucum, code: unit };
    }
  }
  return undefined;
}

function pick(source: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (source[k] !== undefined) {
      out[k] = cloneJson(source[k]);
    }
  }
  return out;
}

/**
 * Applies writes to the working response in place. Virtual items (and their virtual parent
 * groups) are created at their Questionnaire position; removals prune groups left empty.
 */
function applyWrites(
  working: QuestionnaireResponse,
  cq: CompiledQuestionnaire,
  writes: readonly Write[]
): void {
  const created = new Map<ResponseNode, QuestionnaireResponseItem>();

  const liveArray = (c: Container): QuestionnaireResponseItem[] => {
    if (!c.node) {
      if (!Array.isArray(working.item)) {
        working.item = [];
      }
      return working.item;
    }
    const owner = materialize(c.node);
    if (c.answerIndex === undefined) {
      if (!Array.isArray(owner.item)) {
        owner.item = [];
      }
      return owner.item;
    }
    const answer = arrayOf(owner.answer)[c.answerIndex] as QuestionnaireResponseItemAnswer;
    if (!Array.isArray(answer.item)) {
      answer.item = [];
    }
    return answer.item;
  };

  const materialize = (node: ResponseNode): QuestionnaireResponseItem => {
    if (!node.virtual) {
      return node.item;
    }
    const existing = created.get(node);
    if (existing) {
      return existing;
    }
    const q = node.q!;
    const obj: QuestionnaireResponseItem = { linkId: q.linkId };
    if (q.text !== undefined) {
      obj.text = q.text;
    }
    const arr = liveArray(node.container);
    const siblings = node.container.node?.q?.childByLinkId ?? cq.rootByLinkId;
    const at = arr.findIndex((e) => {
      const other = isObject(e) && typeof e.linkId === 'string' ? siblings.get(e.linkId) : undefined;
      return other !== undefined && other.siblingIndex > q.siblingIndex;
    });
    arr.splice(at < 0 ? arr.length : at, 0, obj);
    created.set(node, obj);
    return obj;
  };

  const remove = (node: ResponseNode, obj: QuestionnaireResponseItem): void => {
    const c = node.container;
    const arr = liveArray(c);
    const at = arr.indexOf(obj);
    if (at >= 0) {
      arr.splice(at, 1);
    }
    if (arr.length > 0) {
      return;
    }
    if (!c.node) {
      delete working.item;
    } else if (c.answerIndex === undefined) {
      const owner = materialize(c.node);
      delete owner.item;
      if (owner.answer === undefined) {
        remove(c.node, owner);
      }
    } else {
      delete (arrayOf(materialize(c.node).answer)[c.answerIndex] as QuestionnaireResponseItemAnswer).item;
    }
  };

  // Additions first: a removal must not prune a group that a later addition writes into.
  const ordered = [...writes.filter((w) => w.answers), ...writes.filter((w) => !w.answers)];
  for (const w of ordered) {
    if (w.answers) {
      const obj = materialize(w.node);
      const old = arrayOf(obj.answer);
      // Keep items nested under an answer that stays at the same position.
      obj.answer = w.answers.map((a, i) => {
        const nested = isObject(old[i]) ? (old[i] as QuestionnaireResponseItemAnswer).item : undefined;
        return nested === undefined ? a : { ...a, item: nested };
      });
    } else if (!w.node.virtual) {
      const obj = w.node.item;
      delete obj.answer;
      if (arrayOf(obj.item).length === 0) {
        remove(w.node, obj);
      }
    }
  }
}

/** A calculated item's answer values as submitted. */
interface Submitted {
  readonly q: QItem;
  /** Its node in the first pass's tree (its key and location are spelled only when needed). */
  readonly node: ResponseNode;
  readonly values: unknown[];
}

/**
 * The submitted values of calculated items, from the first pass's tree: its copy has the
 * submitted response's structure (same keys and locations) until the pass's writes are applied,
 * and the values are copied out, so later writes do not reach them.
 */
function submittedValues(tree: ResponseTree, cq: CompiledQuestionnaire): Submitted[] {
  const result: Submitted[] = [];
  for (const q of cq.calculated) {
    for (const node of tree.nodesOf(q)) {
      const values = valuesOf(node.item.answer);
      if (values.length > 0) {
        result.push({ q, node, values });
      }
    }
  }
  return result;
}

/** Information issues for submitted calculated answers that the calculation changed. */
function reportReplacedValues(
  submitted: readonly Submitted[],
  after: ResponseTree,
  report: (i: OperationOutcomeIssue) => void
): void {
  reportChanges(
    submitted,
    (node, q) => {
      const now = after.nodeByKey(node.key);
      return now?.q === q ? valuesOf(now.item.answer) : [];
    },
    report
  );
}

/**
 * Information issues for submitted calculated answers whose values changed.
 * @param submitted - the submitted values.
 * @param current - the values now at a submitted node's place; undefined when unchanged.
 * @param report - receives the issues.
 */
function reportChanges(
  submitted: readonly Submitted[],
  current: (node: ResponseNode, q: QItem) => unknown[] | undefined,
  report: (i: OperationOutcomeIssue) => void
): void {
  for (const { q, node, values } of submitted) {
    const now = current(node, q) ?? values;
    if (jsonEqual(values, now)) {
      continue;
    }
    report(
      issue(
        'information',
        'informational',
        now.length > 0
          ? `submitted answer of calculated item '${q.linkId}' was replaced by the calculated value`
          : `submitted answer of calculated item '${q.linkId}' was removed: the calculation gives no value`,
        `${node.expression}.answer`
      )
    );
  }
}
