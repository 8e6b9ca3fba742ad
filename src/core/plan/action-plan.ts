import type { Expression, Extension, PlanDefinition, PlanDefinitionAction } from '@medplum/fhirtypes';
import { copyJson } from '../json';
import { canonicalOf } from './environment';
import { VARIABLE_EXTENSION, variableSpecs } from './expression';
import { variablesOf } from './expression-memo';
import { actionLineParts } from './narrative';
import type { VariableSpec } from './expression';

/** Extension that makes several applicability conditions combine with OR (`any`) instead of AND (`all`). */
export const APPLICABILITY_BEHAVIOR_EXTENSION =
  'http://hl7.org/fhir/StructureDefinition/cqf-applicabilityBehavior';

/** Extensions that steer processing; they are not copied to the RequestGroup action. */
const PROCESSING_EXTENSIONS = new Set([VARIABLE_EXTENSION, APPLICABILITY_BEHAVIOR_EXTENSION]);

/** The descriptive elements of an action that the RequestGroup action copies, in output order. */
const COPIED_KEYS = [
  'prefix',
  'title',
  'description',
  'textEquivalent',
  'priority',
  'code',
  'documentation',
  'timingDateTime',
  'timingAge',
  'timingPeriod',
  'timingDuration',
  'timingRange',
  'timingTiming',
  'type',
  'groupingBehavior',
  'selectionBehavior',
  'requiredBehavior',
  'precheckBehavior',
  'cardinalityBehavior',
] as const;

export type CopiedKey = (typeof COPIED_KEYS)[number];

/** What `$apply` reads from a PlanDefinition before it evaluates anything: the same on every call. */
export interface DefinitionPlan {
  readonly canonical: string;
  /** `PlanDefinition <canonical>`, for issue text. */
  readonly where: string;
  readonly variables: readonly VariableSpec[];
  readonly actions: readonly ActionPlan[];
}

/** One applicability condition with its location and its text for the trace. */
export interface ConditionPlan {
  readonly expression: Expression | undefined;
  readonly location: string;
  readonly text: string;
  /** `text` as a JSON string, for the "not met" issue. */
  readonly quoted: string;
}

/**
 * How an action's conditions combine: `all` (the default), `any`, or `invalid` when a
 * `cqf-applicabilityBehavior` extension holds anything else (reported on each call, then `all`).
 */
export type BehaviorMode = 'all' | 'any' | 'invalid';

/** One action, read once: locations, issue prefix, variables, conditions, copied parts, label. */
export interface ActionPlan {
  readonly action: PlanDefinitionAction;
  readonly path: string;
  readonly where: string;
  /** The action's extensions the RequestGroup action carries (copied per call). */
  readonly copied: readonly Extension[];
  readonly variables: readonly VariableSpec[];
  readonly conditions: readonly ConditionPlan[];
  /**
   * Whether the conditions need the action's own environment: it has variables, or a condition
   * names `%action` or cannot be read for the variables it names (see {@link variablesOf}).
   */
  readonly conditionsNeedOwnEnv: boolean;
  /** The first `cqf-applicabilityBehavior` extension, if any. */
  readonly behavior: Extension | undefined;
  /** What {@link behavior} says. */
  readonly behaviorMode: BehaviorMode;
  /** The {@link COPIED_KEYS} the action has. */
  readonly copiedKeys: readonly CopiedKey[];
  /** Its line in the narratives. */
  readonly label: string;
  readonly children: readonly ActionPlan[];
  /**
   * `JSON.stringify` of a copy of each {@link copied} extension, filled on first use (see
   * {@link copiedJson}); the CarePlan's extensions are told apart by it.
   */
  readonly copiedJsonCache: (string | undefined)[];
  /** Its line in the narratives, escaped, filled on first use (see {@link narrativeLine}). */
  line?: { readonly head: string; readonly tail: string };
}

/**
 * The escaped parts of the action's line in the narratives, worked out when the action first applies
 * (escaping a malformed value throws there, as it would when the line is written).
 * @param plan - the action's plan
 */
export function narrativeLine(plan: ActionPlan): { readonly head: string; readonly tail: string } {
  const { action } = plan;
  plan.line ??= actionLineParts({
    label: plan.label,
    textEquivalent: action.title && action.textEquivalent ? action.textEquivalent : undefined,
    selectionBehavior: action.selectionBehavior,
    optional: action.requiredBehavior === 'could',
  });
  return plan.line;
}

/**
 * The JSON of a copy of the action's `index`-th copied extension, as `JSON.stringify` writes it:
 * what every untouched copy made from it in any call gives, since a planned definition does not
 * change (see {@link definitionPlan}).
 * @param plan - the action's plan
 * @param index - the index in {@link ActionPlan.copied}
 */
export function copiedJson(plan: ActionPlan, index: number): string {
  let json = plan.copiedJsonCache[index];
  if (json === undefined) {
    json = JSON.stringify(copyJson(plan.copied[index]));
    plan.copiedJsonCache[index] = json;
  }
  return json;
}

/**
 * Plans of the PlanDefinitions the resolver hands out, by object. The resolver's content is shared by
 * every call and never written ($apply copies what it puts into its output; a test runs it over
 * deep-frozen content), so a plan of it stays true; an entry goes with its definition.
 */
const plans = new WeakMap<PlanDefinition, DefinitionPlan>();

/**
 * The plan of a PlanDefinition. `held` says that the resolver hands out this very object (content
 * shared across calls): its plan is kept. Any other definition (one a caller passes by value, which it
 * may change between calls) is planned afresh on every call.
 * @param definition - the PlanDefinition
 * @param held - whether the resolver holds this object
 */
export function definitionPlan(definition: PlanDefinition, held: boolean): DefinitionPlan {
  const known = held ? plans.get(definition) : undefined;
  if (known) {
    return known;
  }
  const canonical = canonicalOf(definition);
  const plan: DefinitionPlan = {
    canonical,
    where: `PlanDefinition ${canonical}`,
    variables: variableSpecs(definition.extension, 'PlanDefinition'),
    actions: actionPlans(canonical, definition.action, 'PlanDefinition.action'),
  };
  if (held) {
    plans.set(definition, plan);
  }
  return plan;
}

function actionPlans(
  canonical: string,
  actions: readonly PlanDefinitionAction[] | undefined,
  basePath: string
): ActionPlan[] {
  return (actions ?? []).map((action, i) => actionPlan(canonical, action, `${basePath}[${i}]`));
}

function actionPlan(canonical: string, action: PlanDefinitionAction, path: string): ActionPlan {
  const conditions: ConditionPlan[] = [];
  (action.condition ?? []).forEach((condition, index) => {
    if (condition.kind === 'applicability') {
      conditions.push({
        expression: condition.expression,
        location: `${path}.condition[${index}].expression`,
        text: condition.expression?.expression ?? '',
        quoted: JSON.stringify(condition.expression?.expression ?? ''),
      });
    }
  });
  const behavior = action.extension?.find((e) => e.url === APPLICABILITY_BEHAVIOR_EXTENSION);
  const variables = variableSpecs(action.extension, path);
  const copied = (action.extension ?? []).filter((e) => !PROCESSING_EXTENSIONS.has(e.url));
  return {
    action,
    path,
    where: `PlanDefinition ${canonical}, action ${JSON.stringify(action.title ?? action.id ?? path)}`,
    copied,
    variables,
    conditions,
    conditionsNeedOwnEnv: variables.length > 0 || conditions.some(({ text }) => readsAction(text)),
    behavior,
    behaviorMode: !behavior
      ? 'all'
      : behavior.valueCode === 'any' || behavior.valueCode === 'all'
        ? behavior.valueCode
        : 'invalid',
    copiedKeys: COPIED_KEYS.filter((key) => action[key] !== undefined),
    label: [action.prefix, action.title ?? action.textEquivalent ?? action.code?.[0]?.text ?? 'Action']
      .filter((part): part is string => Boolean(part))
      .join(' '),
    children: actionPlans(canonical, action.action, `${path}.action`),
    copiedJsonCache: copied.map(() => undefined),
  };
}

/**
 * Whether an expression may depend on `%action` being defined: it names it, names a variable in a way
 * {@link variablesOf} does not read, or calls `defineVariable` (fhirpath.js refuses to define a name
 * the environment has). Text that is not a string is never evaluated.
 */
function readsAction(text: unknown): boolean {
  if (typeof text !== 'string') {
    return false;
  }
  const names = variablesOf(text);
  return names === null || names.includes('action') || text.includes('defineVariable');
}
