import type {
  OperationOutcomeIssue,
  Questionnaire,
  QuestionnaireItemEnableWhen,
  QuestionnaireResponse,
} from '@medplum/fhirtypes';
import { isTrue } from '../../../../src/core/fhirpath/fhirpath';
import { issue } from '../../../../src/core/outcomes';
import type { ExpressionOptions } from './expressions';
import { ExpressionSession } from './expressions';
import type { QItem } from './questionnaire-model';
import { compileQuestionnaire } from './questionnaire-model';
import type { Container, ResponseNode } from './response-tree';
import { comparePos, isWithin, parentContainer, ResponseTree } from './response-tree';
import type { TypedValue } from './values';
import { cloneJson, compareValues, isWellFormed, singleValueOf, valuesEqual } from './values';

/**
 * Decides which items of a response are enabled, per R4 `enableWhen`/`enableBehavior` and SDC
 * `enableWhenExpression`. Results are memoised per item instance.
 *
 * Decisions (R4 leaves some of this open):
 * - Operators follow the R5 wording of the same codes (R4's definitions are garbled): `=` and the
 *   ordering operators hold when at least one answer satisfies them, `!=` when no answer equals the
 *   value (so an unanswered question satisfies `!=`), `exists` compares "has an answer" with the
 *   boolean. Values of different types, or dates of different precision that agree on the shared
 *   part, never satisfy a comparison. Codings match on code and, when the enableWhen coding has one,
 *   on system.
 * - A question that is itself disabled counts as unanswered (R5 `enableWhen` comment).
 * - Several enableWhen without `enableBehavior` (que-12 broken) combine with "any", as the R4
 *   element comment says.
 * - `enableWhen` and `enableWhenExpression` on one item (SDC says they are exclusive) must both hold.
 * - An `enableWhenExpression` is true only for a single `true`. If it fails, the item counts as
 *   enabled (SDC: "permit entry of potentially relevant information") and the failure is reported.
 * - Which occurrence of the question an enableWhen refers to, when the question sits in a repeating
 *   group (R4: "the nearest question occurrence reachable by tracing first the ancestor axis and
 *   then the preceding axis and then the following axis"): the search starts in the smallest
 *   enclosing group instance (or answer) of the item and widens one level at a time; at the first
 *   level that holds an occurrence, an ancestor wins, then the nearest preceding occurrence, then
 *   the nearest following one. So a question in the same instance of a repeating group is always
 *   the one used, even when it comes after the item; an item outside the group sees the nearest
 *   instance. Document order here is Questionnaire order.
 * - A cycle of enableWhen references is broken by treating the item already being decided as
 *   enabled (a warning is reported).
 * See: https://hl7.org/fhir/R4/questionnaire-definitions.html#Questionnaire.item.enableWhen
 */
export class Enablement {
  private readonly memo = new Map<ResponseNode, boolean>();
  private readonly inProgress = new Set<ResponseNode>();

  /**
   * @param tree - the response aligned with its Questionnaire.
   * @param session - expression session on the same response state.
   * @param report - receives problems (expression failures, cycles).
   */
  constructor(
    readonly tree: ResponseTree,
    private readonly session: ExpressionSession,
    private readonly report: (issue: OperationOutcomeIssue) => void
  ) {}

  /**
   * Whether an item instance is enabled: its own conditions hold and every enclosing item is
   * enabled (an item inside a disabled item is disabled whatever its own conditions say).
   * Unmatched items count as enabled.
   * @param node - a present or virtual node.
   */
  isEnabled(node: ResponseNode): boolean {
    const cached = this.memo.get(node);
    if (cached !== undefined) {
      return cached;
    }
    if (this.inProgress.has(node)) {
      this.report(
        issue(
          'warning',
          'processing',
          `enableWhen of item '${node.linkId}' depends on itself; the cycle is broken by treating it as enabled`,
          node.q?.location
        )
      );
      return true;
    }
    this.inProgress.add(node);
    const owner = node.container.node;
    const result = (!owner || this.isEnabled(owner)) && this.ownConditions(node);
    this.inProgress.delete(node);
    this.memo.set(node, result);
    return result;
  }

  /**
   * Whether Questionnaire item `q` is enabled in a container (present or virtual instance).
   * @param container - where the item lives.
   * @param q - the Questionnaire item.
   */
  isEnabledIn(container: Container, q: QItem): boolean {
    const present = this.tree.childrenFor(container, q);
    return this.isEnabled(present[0] ?? this.tree.virtual(container, q));
  }

  private ownConditions(node: ResponseNode): boolean {
    const q = node.q;
    if (!q) {
      return true;
    }
    let enabled = true;
    if (q.enableWhen.length > 0) {
      const behavior = q.enableBehavior ?? 'any';
      const results = q.enableWhen.map((ew) => this.condition(ew, node));
      enabled = behavior === 'all' ? results.every(Boolean) : results.some(Boolean);
    }
    if (enabled && q.enableWhenExpression) {
      const result = this.session.evaluate(q.enableWhenExpression, node);
      enabled = result === undefined ? true : isTrue(result);
    }
    return enabled;
  }

  private condition(ew: QuestionnaireItemEnableWhen, node: ResponseNode): boolean {
    const target = typeof ew.question === 'string' ? this.tree.cq.byLinkId.get(ew.question) : undefined;
    const occurrence = target ? this.occurrence(target, node) : undefined;
    const answers: TypedValue[] =
      occurrence && this.isEnabled(occurrence)
        ? (Array.isArray(occurrence.item.answer) ? occurrence.item.answer : [])
            .map((a) => singleValueOf(a, 'value'))
            .filter((v): v is TypedValue => v !== undefined && isWellFormed(v))
        : [];
    return evaluateOperator(ew, answers);
  }

  /** The occurrence of question `target` that an enableWhen on `node` refers to (see class doc). */
  private occurrence(target: QItem, node: ResponseNode): ResponseNode | undefined {
    const all = this.tree.nodesOf(target);
    if (all.length === 0) {
      return undefined;
    }
    for (let c: Container | undefined = node.container; c; c = parentContainer(c)) {
      const scope = c.pos;
      let ancestor: ResponseNode | undefined;
      let preceding: ResponseNode | undefined;
      let following: ResponseNode | undefined;
      for (const o of all) {
        if (!isWithin(scope, o.pos) || o === node) {
          continue;
        }
        if (isWithin(o.pos, node.pos)) {
          if (!ancestor || o.pos.length > ancestor.pos.length) {
            ancestor = o;
          }
        } else if (comparePos(o.pos, node.pos) < 0) {
          if (!preceding || comparePos(o.pos, preceding.pos) > 0) {
            preceding = o;
          }
        } else if (!following || comparePos(o.pos, following.pos) < 0) {
          following = o;
        }
      }
      const found = ancestor ?? preceding ?? following;
      if (found) {
        return found;
      }
    }
    return undefined;
  }
}

/**
 * Applies one enableWhen to the answers of the question it names.
 * See: https://hl7.org/fhir/R4/valueset-questionnaire-enable-operator.html
 * @param ew - the enableWhen.
 * @param answers - the question's answer values (empty when unanswered or disabled).
 */
export function evaluateOperator(ew: QuestionnaireItemEnableWhen, answers: readonly TypedValue[]): boolean {
  const expected = singleValueOf(ew, 'answer');
  if (ew.operator === 'exists') {
    return expected?.type === 'boolean' && typeof expected.value === 'boolean'
      ? answers.length > 0 === expected.value
      : false;
  }
  if (!expected || !isWellFormed(expected)) {
    return false;
  }
  switch (ew.operator) {
    case '=':
      return answers.some((a) => valuesEqual(a, expected));
    case '!=':
      return !answers.some((a) => valuesEqual(a, expected));
    case '>':
      return answers.some((a) => (compareValues(a, expected) ?? 0) > 0);
    case '<':
      return answers.some((a) => (compareValues(a, expected) ?? 0) < 0);
    case '>=':
      return answers.some((a) => {
        const c = compareValues(a, expected);
        return c !== undefined && c >= 0;
      });
    case '<=':
      return answers.some((a) => {
        const c = compareValues(a, expected);
        return c !== undefined && c <= 0;
      });
    default:
      return false;
  }
}

/** Result of {@link evaluateEnableWhen}. */
export interface EnableWhenResult {
  /** Enabled state of every item present in the response, keyed by its FHIRPath location. */
  readonly byExpression: ReadonlyMap<string, boolean>;
  /**
   * Whether the Questionnaire item `linkId` is enabled inside a container of the response, given
   * by its FHIRPath location (`QuestionnaireResponse` for top-level items, a group instance such as
   * `QuestionnaireResponse.item[3].item[1]`, or an answer such as `...item[0].answer[0]`).
   * Undefined when the container or the item does not exist.
   */
  isEnabled(linkId: string, containerExpression?: string): boolean | undefined;
  /** Expression failures and cycles. */
  readonly issues: readonly OperationOutcomeIssue[];
}

/**
 * Evaluates enableWhen / enableWhenExpression for a response.
 * See: https://hl7.org/fhir/uv/sdc/STU4/behavior.html#enableWhen
 * @param response - the QuestionnaireResponse (not modified).
 * @param questionnaire - its Questionnaire.
 * @param options - clock for expressions.
 */
export function evaluateEnableWhen(
  response: QuestionnaireResponse,
  questionnaire: Questionnaire,
  options: ExpressionOptions = {}
): EnableWhenResult {
  const cq = compileQuestionnaire(questionnaire);
  const tree = new ResponseTree(cloneJson(response), cq);
  const issues: OperationOutcomeIssue[] = [];
  const report = (i: OperationOutcomeIssue): void => {
    issues.push(i);
  };
  const enablement = new Enablement(tree, new ExpressionSession(cq, tree, options, report), report);
  const byExpression = new Map<string, boolean>();
  const containers = new Map<string, Container>([[tree.root.expression, tree.root]]);
  for (const node of tree.nodes) {
    byExpression.set(node.expression, enablement.isEnabled(node));
    for (const c of node.containers) {
      containers.set(c.expression, c);
    }
  }
  // Decide absent items too, so every expression problem is in `issues` before returning.
  for (const c of containers.values()) {
    for (const q of c.qChildren) {
      enablement.isEnabledIn(c, q);
    }
  }
  return {
    byExpression,
    isEnabled: (linkId, containerExpression = 'QuestionnaireResponse') => {
      const container = containers.get(containerExpression);
      const q = container?.qChildren.find((c) => c.linkId === linkId);
      return container && q ? enablement.isEnabledIn(container, q) : undefined;
    },
    issues,
  };
}
