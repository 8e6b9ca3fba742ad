import type {
  OperationOutcomeIssue,
  Questionnaire,
  QuestionnaireResponse,
  ValueSet,
  ValueSetExpansionContains,
} from '@medplum/fhirtypes';
import { isObject } from '../json';
import { issue, issueCollector } from '../outcomes';
import { calculateResponse } from './calculate';
import { Enablement } from './enable-when';
import type { ExpressionOptions } from './expressions';
import { ExpressionSession } from './expressions';
import type { CompiledQuestionnaire, QItem } from './questionnaire-model';
import { compileQuestionnaire } from './questionnaire-model';
import { layoutAllowsOnePass, settlesInOnePass } from './one-pass';
import type { Container, ResponseNode } from './response-tree';
import { hasAnsweredContent, hasValue, ResponseTree, TreeCorrespondence } from './response-tree';
import type { TypedValue } from './values';
import {
  arrayOf,
  cloneJson,
  compareValues,
  decimalPlaces,
  isWellFormed,
  singleValueOf,
  valueKeysOf,
  valuesEqual,
} from './values';

/**
 * Value-set membership, injected (the terminology module provides it): true or false when known,
 * undefined when the value set cannot be checked (unknown, not expandable, ...).
 */
export type ValueSetMembership = (valueSet: string, system: string, code: string) => boolean | undefined;

/** Options for {@link validateResponse}. */
export interface ValidateResponseOptions extends ExpressionOptions {
  /** Checks codings of items bound by `answerValueSet`. Without it those codings get a warning. */
  readonly memberOf?: ValueSetMembership;
  /**
   * The response after {@link calculateResponse}: enableWhen is then decided on the calculated
   * answers. When absent and the Questionnaire has calculated items, the calculation runs here.
   * Neither is needed when the calculation provably writes nothing that decides enablement (the
   * conditions of one-pass.ts): enablement is then decided on the submitted response.
   */
  readonly completed?: QuestionnaireResponse;
}

const ACCEPTED_STATUS = new Set(['completed', 'amended']);

/**
 * Checks a QuestionnaireResponse against its Questionnaire and returns OperationOutcome issues in a
 * deterministic order: response-level checks first, then a depth-first walk of the items (each
 * item's own checks, then its content, then what its container misses). Every issue is a
 * conformance problem (valid FHIR that breaks the Questionnaire, HTTP 422) except expression
 * failures (code `exception`: a fault in the Questionnaire's logic) and warnings.
 *
 * Items with an SDC calculatedExpression are the engine's: they are never reported missing and
 * their values are not checked (the calculation replaces them). Items nested in a disabled item are
 * disabled. The walk never throws on FHIR-shaped JSON; malformed parts are reported and skipped.
 * See: https://hl7.org/fhir/R4/questionnaireresponse.html,
 * https://hl7.org/fhir/uv/sdc/STU4/behavior.html
 * @param response - the submitted response (not modified).
 * @param questionnaire - the Questionnaire it answers.
 * @param options - value-set membership, calculated response, clock.
 */
export function validateResponse(
  response: QuestionnaireResponse,
  questionnaire: Questionnaire,
  options: ValidateResponseOptions = {}
): OperationOutcomeIssue[] {
  const { issues, report } = issueCollector();
  checkResource(response, questionnaire, report);
  const cq = compileQuestionnaire(questionnaire);
  // fhirpath.js marks the objects it returns, so expressions run on a private copy; only an
  // enableWhenExpression (and the variables it names) is evaluated here.
  const subject = cq.hasEnableWhenExpressions ? cloneJson(response) : response;
  const tree = new ResponseTree(subject, cq);
  const enabled = enablementFor(tree, cq, response, questionnaire, options, report);
  new ItemChecker(tree, cq, enabled, options, report).container(tree.root);
  return issues;
}

function checkResource(
  response: QuestionnaireResponse,
  questionnaire: Questionnaire,
  report: (i: OperationOutcomeIssue) => void
): void {
  const r: Record<string, unknown> = isObject(response) ? response : {};
  if (r.resourceType !== 'QuestionnaireResponse') {
    report(
      issue('error', 'structure', 'the resource is not a QuestionnaireResponse', 'QuestionnaireResponse')
    );
  }
  if (typeof r.id !== 'string' || r.id === '') {
    report(
      issue(
        'error',
        'required',
        'the QuestionnaireResponse has no logical id (extracted resources are keyed on it)',
        'QuestionnaireResponse.id'
      )
    );
  }
  if (typeof r.status !== 'string') {
    report(
      issue('error', 'required', 'the QuestionnaireResponse has no status', 'QuestionnaireResponse.status')
    );
  } else if (!ACCEPTED_STATUS.has(r.status)) {
    report(
      issue(
        'error',
        'business-rule',
        `status is '${r.status}'; only a completed or amended QuestionnaireResponse is processed`,
        'QuestionnaireResponse.status'
      )
    );
  }
  const subject = r.subject;
  if (!isObject(subject) || (subject.reference === undefined && subject.identifier === undefined)) {
    report(
      issue('error', 'required', 'the QuestionnaireResponse has no subject', 'QuestionnaireResponse.subject')
    );
  }
  const canonical = r.questionnaire;
  const q: Record<string, unknown> = isObject(questionnaire) ? questionnaire : {};
  if (typeof canonical !== 'string' || canonical === '') {
    report(
      issue(
        'error',
        'required',
        'the QuestionnaireResponse does not name its Questionnaire',
        'QuestionnaireResponse.questionnaire'
      )
    );
    return;
  }
  const bar = canonical.indexOf('|');
  const url = bar < 0 ? canonical : canonical.slice(0, bar);
  const version = bar < 0 ? undefined : canonical.slice(bar + 1);
  if (url !== q.url) {
    report(
      issue(
        'error',
        'value',
        `questionnaire '${canonical}' is not the Questionnaire '${String(q.url)}' it is validated against`,
        'QuestionnaireResponse.questionnaire'
      )
    );
  } else if (version !== undefined && version !== q.version) {
    report(
      issue(
        'error',
        'value',
        `questionnaire version '${version}' does not match the Questionnaire's version '${String(q.version)}'`,
        'QuestionnaireResponse.questionnaire'
      )
    );
  }
}

interface EnabledLookup {
  node(node: ResponseNode): boolean;
  item(container: Container, q: QItem): boolean;
}

/**
 * Decides enablement on the calculated response when the Questionnaire has calculated items (an
 * enableWhen may depend on them), mapping items by logical position (linkIds, instance ordinals, answer
 * indices; see TreeCorrespondence), which the calculation never changes for the respondent's items.
 */
function enablementFor(
  tree: ResponseTree,
  cq: CompiledQuestionnaire,
  response: QuestionnaireResponse,
  questionnaire: Questionnaire,
  options: ValidateResponseOptions,
  report: (i: OperationOutcomeIssue) => void
): EnabledLookup {
  if (!cq.hasConditions) {
    return { node: () => true, item: () => true };
  }
  const own = (): Enablement =>
    new Enablement(tree, new ExpressionSession(cq, tree, options, report), report);
  let basis: ResponseTree | undefined;
  if (cq.calculated.length > 0 && settlesInOnePass(cq) && layoutAllowsOnePass(tree, cq)) {
    // Nothing an enableWhen or enableWhenExpression reads can be written by the calculation here
    // (one-pass.ts), so every item is enabled on the calculated response exactly when it is on the
    // submitted one: no tree of the calculated response, no mapping onto it.
    basis = undefined;
  } else if (options.completed) {
    basis = new ResponseTree(
      cq.hasEnableWhenExpressions ? cloneJson(options.completed) : options.completed,
      cq
    );
  } else if (cq.calculated.length > 0) {
    basis = new ResponseTree(
      calculateResponse(response, questionnaire, { clock: options.clock }).response,
      cq
    );
  }
  if (!basis) {
    const e = own();
    return { node: (n) => e.isEnabled(n), item: (c, q) => e.isEnabledIn(c, q) };
  }
  const b = basis;
  const onBasis = new Enablement(b, new ExpressionSession(cq, b, options, report), report);
  const toBasis = new TreeCorrespondence(tree, b);
  let fallback: Enablement | undefined;
  const fb = (): Enablement => (fallback ??= own());
  return {
    node: (n) => {
      const m = toBasis.node(n);
      if (m && m.q === n.q) {
        return onBasis.isEnabled(m);
      }
      const c = toBasis.container(n.container);
      return c && n.q ? onBasis.isEnabledIn(c, n.q) : fb().isEnabled(n);
    },
    item: (container, q) => {
      const c = toBasis.container(container);
      return c ? onBasis.isEnabledIn(c, q) : fb().isEnabledIn(container, q);
    },
  };
}

class ItemChecker {
  constructor(
    private readonly tree: ResponseTree,
    private readonly cq: CompiledQuestionnaire,
    private readonly enabled: EnabledLookup,
    private readonly options: ValidateResponseOptions,
    private readonly report: (i: OperationOutcomeIssue) => void
  ) {}

  /** Checks the items of a container, then what it misses. */
  container(c: Container): void {
    const counts = new Map<QItem, number>();
    for (const node of c.children) {
      if (node.q) {
        const n = counts.get(node.q) ?? 0;
        counts.set(node.q, n + 1);
        if (n > 0) {
          this.duplicate(node, node.q);
        }
      }
      this.node(node);
    }
    for (const q of c.qChildren) {
      this.missing(c, q);
    }
  }

  private duplicate(node: ResponseNode, q: QItem): void {
    if (q.type === 'group' && q.repeats) {
      return;
    }
    const text =
      q.type === 'group'
        ? `group '${q.linkId}' does not repeat but appears more than once`
        : `item '${q.linkId}' appears more than once; all answers to a question belong in one item (qrs-2)`;
    this.report(issue('error', 'duplicate', text, node.expression));
  }

  private node(node: ResponseNode): void {
    const item = node.item as unknown as Record<string, unknown>;
    if (typeof item.linkId !== 'string' || item.linkId === '') {
      this.report(issue('error', 'required', 'item has no linkId', node.expression));
      return;
    }
    if (!node.q) {
      if (node.mismatch === 'unknown') {
        this.report(
          issue(
            'error',
            'not-found',
            `linkId '${node.linkId}' is not in the Questionnaire`,
            `${node.expression}.linkId`
          )
        );
      } else {
        const where = this.cq.byLinkId.get(node.linkId)?.parent;
        this.report(
          issue(
            'error',
            'structure',
            `item '${node.linkId}' is at the wrong level: the Questionnaire has it ${where ? `inside '${where.linkId}'` : 'at the top level'}`,
            node.expression
          )
        );
      }
      return;
    }
    const q = node.q;
    if (item.answer !== undefined && !Array.isArray(item.answer)) {
      this.report(
        issue('error', 'structure', `answer of item '${q.linkId}' is not a list`, `${node.expression}.answer`)
      );
    }
    if (item.item !== undefined && !Array.isArray(item.item)) {
      this.report(
        issue('error', 'structure', `item of item '${q.linkId}' is not a list`, `${node.expression}.item`)
      );
    }
    const answers = arrayOf(item.answer);
    const nested = arrayOf(item.item);
    if (answers.length > 0 && nested.length > 0) {
      this.report(
        issue(
          'error',
          'invariant',
          `item '${q.linkId}' has both answers and nested items; nested items of a question go under its answers (qrs-1)`,
          node.expression
        )
      );
    }
    if (typeof item.text === 'string' && q.text !== undefined && item.text !== q.text) {
      this.report(
        issue(
          'warning',
          'value',
          `text of item '${q.linkId}' differs from the Questionnaire`,
          `${node.expression}.text`
        )
      );
    }
    if (!this.enabled.node(node)) {
      if (hasRespondentAnswers(node)) {
        this.report(
          issue('error', 'business-rule', `item '${q.linkId}' is answered but not enabled`, node.expression)
        );
      }
      return;
    }
    if (q.type === 'display') {
      if (answers.length > 0 || nested.length > 0) {
        this.report(
          issue(
            'error',
            'structure',
            `display item '${q.linkId}' cannot have answers or nested items`,
            node.expression
          )
        );
      }
      return;
    }
    if (q.type === 'group') {
      if (answers.length > 0) {
        this.report(
          issue('error', 'structure', `group '${q.linkId}' cannot have answers`, `${node.expression}.answer`)
        );
      }
      for (const c of node.containers) {
        this.container(c);
      }
      return;
    }
    nested.forEach((child, i) => {
      const childId = isObject(child) && typeof child.linkId === 'string' ? child.linkId : '';
      this.report(
        issue(
          'error',
          'structure',
          `item '${childId}' is nested directly under question '${q.linkId}'; items below a question go under one of its answers`,
          `${node.expression}.item[${i}]`
        )
      );
    });
    if (!q.calculated) {
      this.answers(node, q, answers);
    }
    for (const c of node.containers) {
      this.container(c);
    }
  }

  private answers(node: ResponseNode, q: QItem, answers: readonly unknown[]): void {
    if (answers.length > 1 && !q.repeats) {
      this.report(
        issue(
          'error',
          'structure',
          `item '${q.linkId}' does not repeat but has ${answers.length} answers`,
          `${node.expression}.answer[1]`
        )
      );
    }
    const values: TypedValue[] = [];
    for (let i = 0; i < answers.length; i++) {
      if (!(i in answers)) {
        continue; // a hole, which forEach skipped
      }
      const v = this.answer(q, answers[i], node, i);
      if (v) {
        values.push(v);
      }
    }
    if (q.readOnly && !q.hasInitialExpression && q.initialValues.length > 0 && answers.length > 0) {
      const same =
        values.length === q.initialValues.length &&
        values.every((v) => q.initialValues.some((init) => valuesEqual(v, init)));
      if (!same) {
        this.report(
          issue(
            'warning',
            'business-rule',
            `read-only item '${q.linkId}' differs from its initial value`,
            `${node.expression}.answer`
          )
        );
      }
    }
  }

  /**
   * Checks one answer; returns its value when it is well formed and of an allowed type. Its
   * location (`node`'s `answer[index]`) is spelled only for an issue.
   */
  private answer(q: QItem, answer: unknown, node: ResponseNode, index: number): TypedValue | undefined {
    const path = (): string => answerPath(node, index);
    if (!isObject(answer)) {
      this.report(issue('error', 'structure', `answer to '${q.linkId}' is not an object`, path()));
      return undefined;
    }
    const keys = valueKeysOf(answer);
    if (keys.length === 0) {
      this.report(issue('error', 'required', `answer to '${q.linkId}' has no value`, path()));
      return undefined;
    }
    if (keys.length > 1) {
      this.report(issue('error', 'structure', `answer to '${q.linkId}' has more than one value[x]`, path()));
      return undefined;
    }
    const tv = singleValueOf(answer, 'value');
    if (!tv) {
      this.report(
        issue(
          'error',
          'value',
          `answer to '${q.linkId}' has an unknown value type '${keys[0]}'`,
          valuePath(node, index)
        )
      );
      return undefined;
    }
    if (q.allowedTypes && !q.allowedTypes.has(tv.type)) {
      const allowed = [...q.allowedTypes].map((t) => `value${t[0]!.toUpperCase()}${t.slice(1)}`).join(' or ');
      this.report(
        issue(
          'error',
          'value',
          `item '${q.linkId}' is of type ${q.type} and takes ${allowed}, not ${keys[0]}`,
          valuePath(node, index)
        )
      );
      return undefined;
    }
    if (!isWellFormed(tv)) {
      this.report(
        issue('error', 'value', `answer to '${q.linkId}' is not a valid ${tv.type}`, valuePath(node, index))
      );
      return undefined;
    }
    this.choices(q, tv, node, index);
    this.limits(q, tv, node, index);
    return tv;
  }

  private choices(q: QItem, tv: TypedValue, node: ResponseNode, index: number): void {
    const at = (): string => valuePath(node, index);
    if (q.type === 'open-choice' && tv.type === 'string') {
      return;
    }
    if (q.optionValues.length > 0) {
      if (!isOption(q, tv)) {
        this.report(
          issue(
            'error',
            'code-invalid',
            `answer to '${q.linkId}' (${show(tv)}) is not one of its answerOptions`,
            at()
          )
        );
      }
      return;
    }
    if (q.answerValueSet === undefined || tv.type !== 'Coding' || !isObject(tv.value)) {
      return;
    }
    const vs = q.answerValueSet;
    const { system, code } = tv.value;
    if (typeof system !== 'string' || typeof code !== 'string') {
      this.report(
        issue(
          'error',
          'code-invalid',
          `answer to '${q.linkId}' needs a system and a code to be checked against value set ${vs}`,
          at()
        )
      );
      return;
    }
    const member =
      containedMembership(this.cq, vs, system, code) ?? this.options.memberOf?.(vs, system, code);
    if (member === false) {
      this.report(
        issue(
          'error',
          'code-invalid',
          `answer to '${q.linkId}' (${system}|${code}) is not in value set ${vs}`,
          at()
        )
      );
    } else if (member === undefined) {
      this.report(
        issue(
          'warning',
          'not-supported',
          `answer to '${q.linkId}' (${system}|${code}) could not be checked against value set ${vs}`,
          at()
        )
      );
    }
  }

  private limits(q: QItem, tv: TypedValue, node: ResponseNode, index: number): void {
    if (!q.hasLimits) {
      return;
    }
    const at = (): string => valuePath(node, index);
    if (q.minValue && (compareValues(tv, q.minValue) ?? 0) < 0) {
      this.report(
        issue(
          'error',
          'value',
          `answer to '${q.linkId}' (${show(tv)}) is below the minimum ${show(q.minValue)}`,
          at()
        )
      );
    }
    if (q.maxValue && (compareValues(tv, q.maxValue) ?? 0) > 0) {
      this.report(
        issue(
          'error',
          'value',
          `answer to '${q.linkId}' (${show(tv)}) is above the maximum ${show(q.maxValue)}`,
          at()
        )
      );
    }
    const text =
      typeof tv.value === 'string' ? tv.value : typeof tv.value === 'number' ? String(tv.value) : undefined;
    if (text !== undefined && (q.maxLength !== undefined || q.minLength !== undefined)) {
      // Code points, as FHIR counts characters.
      const length = [...text].length;
      if (q.maxLength !== undefined && length > q.maxLength) {
        this.report(
          issue('error', 'too-long', `answer to '${q.linkId}' is longer than ${q.maxLength} characters`, at())
        );
      }
      if (q.minLength !== undefined && length < q.minLength) {
        this.report(
          issue('error', 'value', `answer to '${q.linkId}' is shorter than ${q.minLength} characters`, at())
        );
      }
    }
    if (q.maxDecimalPlaces !== undefined && tv.type === 'decimal' && typeof tv.value === 'number') {
      if (decimalPlaces(tv.value) > q.maxDecimalPlaces) {
        this.report(
          issue(
            'error',
            'value',
            `answer to '${q.linkId}' has more than ${q.maxDecimalPlaces} decimal places`,
            at()
          )
        );
      }
    }
    if (q.regex && typeof tv.value === 'string' && !q.regex.test(tv.value)) {
      this.report(
        issue('error', 'value', `answer to '${q.linkId}' does not match the required pattern`, at())
      );
    }
  }

  /** Required items and occurrence limits of one Questionnaire item in a container. */
  private missing(c: Container, q: QItem): void {
    if (q.type === 'display' || q.calculated) {
      return;
    }
    const present = this.tree.childrenFor(c, q);
    if ((!q.required && q.minOccurs === undefined && q.maxOccurs === undefined) || !this.enabled.item(c, q)) {
      return;
    }
    const isGroup = q.type === 'group';
    if (q.required && !(isGroup && q.calculatedInside)) {
      if (present.length === 0) {
        this.report(issue('error', 'required', `required item '${q.linkId}' is missing`, c.expression));
      } else if (!isGroup) {
        if (!present.some((n) => arrayOf(n.item.answer).some(hasValue))) {
          this.report(
            issue('error', 'required', `required item '${q.linkId}' has no answer`, present[0]!.expression)
          );
        }
      } else {
        for (const n of present) {
          if (this.enabled.node(n) && !hasAnsweredContent(n)) {
            this.report(
              issue('error', 'required', `required group '${q.linkId}' has no answer`, n.expression)
            );
          }
        }
      }
    }
    if (!q.repeats) {
      return;
    }
    const answers = isGroup ? [] : arrayOf(present[0]?.item.answer);
    const count = isGroup ? present.length : answers.length;
    const noun = isGroup ? 'instances' : 'answers';
    if (q.minOccurs !== undefined && count < q.minOccurs && (count > 0 || q.required)) {
      this.report(
        issue(
          'error',
          'required',
          `item '${q.linkId}' needs at least ${q.minOccurs} ${noun} but has ${count}`,
          present[0]?.expression ?? c.expression
        )
      );
    }
    if (q.maxOccurs !== undefined && count > q.maxOccurs) {
      this.report(
        issue(
          'error',
          'structure',
          `item '${q.linkId}' allows at most ${q.maxOccurs} ${noun} but has ${count}`,
          isGroup ? present[q.maxOccurs]!.expression : `${present[0]!.expression}.answer[${q.maxOccurs}]`
        )
      );
    }
  }
}

/**
 * `q.optionValues.some((o) => valuesEqual(tv, o))`: a Coding equals only a Coding option with its
 * code (codingMatches), so only those are compared; other values are compared with every option.
 */
function isOption(q: QItem, tv: TypedValue): boolean {
  if (tv.type !== 'Coding') {
    return q.optionValues.some((o) => valuesEqual(tv, o));
  }
  const code = isObject(tv.value) ? tv.value.code : undefined;
  const candidates = typeof code === 'string' ? q.optionCodingsByCode.get(code) : undefined;
  return candidates !== undefined && candidates.some((o) => valuesEqual(tv, o));
}

/** FHIRPath location of answer `index` of a node. */
function answerPath(node: ResponseNode, index: number): string {
  return `${node.expression}.answer[${index}]`;
}

/** FHIRPath location of the value of answer `index` of a node. */
function valuePath(node: ResponseNode, index: number): string {
  return `${answerPath(node, index)}.value`;
}

/** Answers given by the respondent in or below a node (calculated items' answers excluded). */
function hasRespondentAnswers(node: ResponseNode): boolean {
  if (!node.q?.calculated && arrayOf(node.item.answer).some(hasValue)) {
    return true;
  }
  return node.containers.some((c) => c.children.some(hasRespondentAnswers));
}

function show(tv: TypedValue): string {
  const v = tv.value;
  if (isObject(v)) {
    if (tv.type === 'Coding') {
      return `${String(v.system ?? '')}|${String(v.code ?? '')}`;
    }
    if (tv.type === 'Quantity') {
      return `${String(v.value)} ${String(v.unit ?? v.code ?? '')}`.trim();
    }
    return tv.type;
  }
  return String(v);
}

/**
 * Membership in a value set contained in the Questionnaire (`answerValueSet` = `#id`), when it can
 * be decided locally: from its expansion, or from a compose made only of enumerated concepts.
 * Undefined otherwise (the injected membership function decides).
 */
function containedMembership(
  cq: CompiledQuestionnaire,
  reference: string,
  system: string,
  code: string
): boolean | undefined {
  if (!reference.startsWith('#')) {
    return undefined;
  }
  const vs = arrayOf(cq.questionnaire.contained).find(
    (r): r is ValueSet => isObject(r) && r.resourceType === 'ValueSet' && r.id === reference.slice(1)
  );
  if (!vs) {
    return undefined;
  }
  if (vs.expansion) {
    const walk = (list: readonly ValueSetExpansionContains[] | undefined): boolean =>
      arrayOf(list).some(
        (c) =>
          isObject(c) &&
          ((c.system === system && c.code === code) || walk((c as ValueSetExpansionContains).contains))
      );
    return walk(vs.expansion.contains);
  }
  const include = arrayOf(vs.compose?.include).filter(isObject);
  const enumerated =
    include.length > 0 &&
    arrayOf(vs.compose?.exclude).length === 0 &&
    include.every((i) => Array.isArray(i.concept) && i.filter === undefined && i.valueSet === undefined);
  if (!enumerated) {
    return undefined;
  }
  return include.some(
    (i) => i.system === system && arrayOf(i.concept).some((c) => isObject(c) && c.code === code)
  );
}
