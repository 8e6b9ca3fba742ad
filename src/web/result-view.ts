import type {
  Bundle,
  BundleEntry,
  CarePlan,
  CodeableConcept,
  Coding,
  Condition,
  Extension,
  Observation,
  OperationOutcome,
  Provenance,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
  RequestGroup,
  RequestGroupAction,
  Resource,
} from '@medplum/fhirtypes';
import { unitLabel } from './render-questionnaire';

/** Extension carrying the rule (R1…R12, INF, RF) that produced a resource or an action. */
export const RULE_URL = 'http://re-fhir.org/fhir/StructureDefinition/re-rule';
/** Extension carrying the evidence basis of a recommendation (G, L, S, C; not GRADE). */
export const EVIDENCE_BASIS_URL = 'http://re-fhir.org/fhir/StructureDefinition/re-evidence-basis';
/** Shown for a recommendation that carries no evidence basis (R11, R12). */
export const NO_EVIDENCE_LABEL = 'optional, unverified';
/** The three strategies of the management pathway, by their action titles, in display order. */
export const STRATEGY_TITLES = ['Tests to order', 'Treatment options', 'Referrals and counselling'] as const;

/** A coded value as shown: which system, which code, what it means. */
export interface CodeView {
  readonly system: string;
  /** A short name for the system (ICD-10-CM, SNOMED CT, …) or the system URL. */
  readonly systemLabel: string;
  readonly code: string;
  readonly display?: string;
}

/** An answer that caused a Condition. */
export interface EvidenceView {
  /** The question (or, failing that, the evidence code's display). */
  readonly label: string;
  /** The item it came from, when known. */
  readonly linkId?: string;
  /** The submitted answers, formatted; empty when none could be found. */
  readonly answers: string[];
}

/** One extracted Condition. */
export interface ConditionView {
  readonly title: string;
  readonly codes: CodeView[];
  /** `verificationStatus` code (provisional, confirmed, …) and its display. */
  readonly verificationStatus: string;
  readonly verificationDisplay: string;
  readonly clinicalStatus?: string;
  readonly rule?: CodeView;
  readonly onset?: string;
  readonly evidence: EvidenceView[];
}

/** One proposed activity (a request of the RequestGroup). */
export interface ActivityView {
  readonly title: string;
  readonly description?: string;
  /** Resource type and intent of the request, e.g. "MedicationRequest (option)". */
  readonly kind?: string;
  /** The enclosing choice, e.g. "Sympathomimetic (choose at most one)". */
  readonly choice?: string;
}

/** One recommendation (a rule's action) within a strategy. */
export interface RecommendationView {
  readonly title: string;
  readonly description?: string;
  readonly rule?: CodeView;
  /** The evidence basis codings, or empty when the recommendation has none. */
  readonly evidence: CodeView[];
  /** The evidence basis as one line ("G Guideline text; C …", or "optional, unverified"). */
  readonly evidenceLabel: string;
  readonly activities: ActivityView[];
}

/** One strategy group of the CarePlan. */
export interface StrategyView {
  readonly title: string;
  readonly recommendations: RecommendationView[];
}

/** The Provenance of the write. */
export interface ProvenanceView {
  readonly recorded?: string;
  readonly occurred?: string;
  readonly activity?: string;
  readonly agents: { readonly role: string; readonly who: string }[];
  readonly sources: string[];
  readonly targets: number;
}

/**
 * One entry of a transaction-response (upstream mode): a resource the FHIR server wrote.
 * See: https://hl7.org/fhir/R4/http.html#transaction-response
 */
export interface WrittenView {
  /** Its type, from `response.location` (or from the returned resource). */
  readonly resourceType: string;
  readonly id?: string;
  readonly version?: string;
  /** `response.location` as the server gave it. */
  readonly location?: string;
  /** `response.status` as the server gave it, e.g. "201 Created". */
  readonly status: string;
  /** Whether the server returned the resource itself (`resource`), so that it can be shown. */
  readonly returned: boolean;
}

/** Everything the page shows about an evaluation result. */
export interface ResultView {
  readonly conditions: ConditionView[];
  /** The three strategies, always in STRATEGY_TITLES order, then any other top-level action. */
  readonly strategies: StrategyView[];
  readonly carePlanTitle?: string;
  readonly provenance?: ProvenanceView;
  /** Resource counts by type, e.g. { Observation: 3 }. */
  readonly counts: Record<string, number>;
  /**
   * What the FHIR server wrote, one per entry, when the answer is a transaction-response (the server
   * wrote the result to its upstream FHIR server); absent for a transaction Bundle, which nothing stored.
   */
  readonly written?: WrittenView[];
}

const SYSTEM_LABELS: Record<string, string> = {
  'http://hl7.org/fhir/sid/icd-10-cm': 'ICD-10-CM',
  'http://id.who.int/icd/release/11/mms': 'ICD-11',
  'http://snomed.info/sct': 'SNOMED CT',
  'http://loinc.org': 'LOINC',
  'http://www.whocc.no/atc': 'ATC',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'RxNorm',
  'http://re-fhir.org/fhir/CodeSystem/re-finding': 're-finding',
  'http://re-fhir.org/fhir/CodeSystem/re-rule': 're-rule',
  'http://re-fhir.org/fhir/CodeSystem/re-evidence-basis': 're-evidence-basis',
};

/**
 * Maps the Bundle returned by `$re-evaluate` to what the page shows: the Conditions with the
 * submitted answers that caused them, the CarePlan's activities grouped by strategy with each
 * recommendation's rule and evidence basis, and the Provenance. The Bundle is the transaction (no
 * upstream: nothing was stored), or the upstream's transaction-response (what was written): then
 * `written` lists every entry's `response.location` and status, and the resources the upstream
 * returned (`resource`, with references between them by `Type/id`) are shown like the transaction's.
 * Pure; it never throws on a Bundle of unexpected shape (missing parts are left out).
 * See: https://hl7.org/fhir/R4/condition.html (evidence), requestgroup.html, provenance.html
 * @param bundle - The Bundle from the server.
 * @param response - The QuestionnaireResponse that was submitted (for the answers).
 * @param questionnaire - The Questionnaire (item codes map evidence codes to questions).
 */
export function bundleToView(
  bundle: Bundle,
  response: QuestionnaireResponse,
  questionnaire: Questionnaire
): ResultView {
  const entries = bundle.entry ?? [];
  const resources = entries.flatMap((e) =>
    e.resource ? [{ fullUrl: e.fullUrl, resource: e.resource, location: e.response?.location }] : []
  );
  const byUrl = new Map<string, Resource>();
  for (const { fullUrl, resource, location } of resources) {
    if (fullUrl) {
      byUrl.set(fullUrl, resource);
    }
    const at = location ? parseLocation(location) : undefined;
    if (at && !byUrl.has(`${at.resourceType}/${at.id}`)) {
      byUrl.set(`${at.resourceType}/${at.id}`, resource);
    }
    if (resource.id) {
      byUrl.set(`${resource.resourceType}/${resource.id}`, resource);
    }
  }
  const counts: Record<string, number> = {};
  for (const { resource } of resources) {
    counts[resource.resourceType] = (counts[resource.resourceType] ?? 0) + 1;
  }
  const items = new QuestionIndex(questionnaire, response);
  const conditions = resources
    .map((r) => r.resource)
    .filter((r): r is Condition => r.resourceType === 'Condition')
    .map((c) => conditionView(c, items, byUrl));
  const carePlan = resources.map((r) => r.resource).find((r): r is CarePlan => r.resourceType === 'CarePlan');
  const requestGroup = findRequestGroup(
    carePlan,
    resources.map((r) => r.resource),
    byUrl
  );
  const provenance = resources
    .map((r) => r.resource)
    .find((r): r is Provenance => r.resourceType === 'Provenance');
  return {
    conditions,
    strategies: strategiesView(requestGroup, byUrl),
    ...(carePlan?.title ? { carePlanTitle: carePlan.title } : {}),
    ...(provenance ? { provenance: provenanceView(provenance) } : {}),
    counts,
    ...(bundle.type === 'transaction-response' ? { written: entries.map(writtenView) } : {}),
  };
}

/**
 * Reads a `response.location` (`Condition/123/_history/1`, relative or absolute, with or without the
 * version) into the resource type, id and version; undefined when it names no resource.
 * See: https://hl7.org/fhir/R4/bundle-definitions.html#Bundle.entry.response.location
 * @param location - The location.
 */
export function parseLocation(
  location: string
): { resourceType: string; id: string; version?: string } | undefined {
  const parts = (location.split(/[?#]/)[0] ?? '').split('/').filter((p) => p !== '');
  const history = parts.lastIndexOf('_history');
  const [resourceType, id, version] =
    history >= 2
      ? [parts[history - 2], parts[history - 1], parts[history + 1]]
      : [parts[parts.length - 2], parts[parts.length - 1], undefined];
  if (!resourceType || !id || !/^[A-Z][A-Za-z]+$/.test(resourceType) || !/^[A-Za-z0-9\-.]{1,64}$/.test(id)) {
    return undefined;
  }
  return { resourceType, id, ...(version ? { version } : {}) };
}

function writtenView(entry: BundleEntry): WrittenView {
  const location = typeof entry.response?.location === 'string' ? entry.response.location : undefined;
  const at = location ? parseLocation(location) : undefined;
  const id = at?.id ?? entry.resource?.id;
  const version = at?.version ?? entry.resource?.meta?.versionId;
  return {
    resourceType: at?.resourceType ?? entry.resource?.resourceType ?? 'Resource',
    ...(id ? { id } : {}),
    ...(version ? { version } : {}),
    ...(location ? { location } : {}),
    status: entry.response?.status ?? 'unknown',
    returned: entry.resource !== undefined,
  };
}

/** One line of an OperationOutcome, as shown. */
export interface OutcomeLine {
  readonly severity: string;
  readonly text: string;
  /** FHIRPath locations the issue points at. */
  readonly where?: string;
}

/**
 * The issues of an OperationOutcome as readable lines (details text, else diagnostics, else code).
 * See: https://hl7.org/fhir/R4/operationoutcome.html
 * @param outcome - The OperationOutcome returned by the server.
 */
export function outcomeLines(outcome: OperationOutcome): OutcomeLine[] {
  return (outcome.issue ?? []).map((issue) => {
    const text =
      issue.details?.text ?? issue.diagnostics ?? issue.details?.coding?.[0]?.display ?? issue.code;
    const where = [...(issue.expression ?? []), ...(issue.location ?? [])].join(', ');
    return { severity: issue.severity, text, ...(where ? { where } : {}) };
  });
}

/**
 * A short headline for an HTTP failure status of the evaluate operation.
 * @param status - The HTTP status code.
 */
export function statusHeadline(status: number): string {
  switch (status) {
    case 400:
      return 'The server could not read the response (400).';
    case 404:
      return 'The server does not know the Questionnaire or a resource it refers to (404).';
    case 422:
      return 'The response does not meet the Questionnaire or its profile (422).';
    default:
      return status >= 500
        ? `The server failed to evaluate the response (${status}).`
        : `The server refused the request (${status}).`;
  }
}

function conditionView(
  condition: Condition,
  items: QuestionIndex,
  byUrl: Map<string, Resource>
): ConditionView {
  const codes = (condition.code?.coding ?? []).flatMap(codeView);
  const status = condition.verificationStatus?.coding?.[0];
  const rule = extensionCodings(condition.extension, RULE_URL)[0];
  return {
    title: condition.code?.text ?? codes[0]?.display ?? codes[0]?.code ?? 'Condition',
    codes,
    verificationStatus: status?.code ?? 'unknown',
    verificationDisplay: status?.display ?? status?.code ?? 'unknown',
    ...(condition.clinicalStatus?.coding?.[0]?.code
      ? { clinicalStatus: condition.clinicalStatus.coding[0].code }
      : {}),
    ...(rule ? { rule } : {}),
    ...(condition.onsetDateTime ? { onset: condition.onsetDateTime } : {}),
    evidence: (condition.evidence ?? []).flatMap((ev) =>
      (ev.code ?? []).map((code) => evidenceView(code, ev.detail?.[0]?.reference, items, byUrl))
    ),
  };
}

function evidenceView(
  code: CodeableConcept,
  detail: string | undefined,
  items: QuestionIndex,
  byUrl: Map<string, Resource>
): EvidenceView {
  for (const coding of code.coding ?? []) {
    const byCode = items.byItemCode(coding);
    if (byCode) {
      return { label: byCode.label, linkId: byCode.linkId, answers: items.answers(byCode.linkId) };
    }
  }
  for (const coding of code.coding ?? []) {
    const byAnswer = items.byAnswerCoding(coding);
    if (byAnswer) {
      return byAnswer;
    }
  }
  const label = code.text ?? code.coding?.[0]?.display ?? code.coding?.[0]?.code ?? 'Evidence';
  const observation = detail ? byUrl.get(detail) : undefined;
  if (observation?.resourceType === 'Observation') {
    const value = observationValue(observation);
    return { label, answers: value ? [value] : [] };
  }
  return { label, answers: [] };
}

/** Questions of the Questionnaire, and the submitted answers, looked up the ways evidence needs. */
class QuestionIndex {
  private readonly items = new Map<string, QuestionnaireItem>();
  private readonly codes = new Map<string, string>();
  private readonly answered = new Map<string, QuestionnaireResponseItemAnswer[]>();

  constructor(questionnaire: Questionnaire, response: QuestionnaireResponse) {
    const walkQ = (items: readonly QuestionnaireItem[] | undefined): void => {
      for (const item of items ?? []) {
        this.items.set(item.linkId, item);
        for (const code of item.code ?? []) {
          this.codes.set(`${code.system}|${code.code}`, item.linkId);
        }
        walkQ(item.item);
      }
    };
    walkQ(questionnaire.item);
    const walkR = (items: readonly QuestionnaireResponseItem[] | undefined): void => {
      for (const item of items ?? []) {
        if (item.answer?.length) {
          this.answered.set(item.linkId, [...(this.answered.get(item.linkId) ?? []), ...item.answer]);
        }
        walkR(item.item);
        for (const answer of item.answer ?? []) {
          walkR(answer.item);
        }
      }
    };
    walkR(response.item);
  }

  byItemCode(coding: Coding): { linkId: string; label: string } | undefined {
    const linkId = this.codes.get(`${coding.system}|${coding.code}`);
    return linkId ? { linkId, label: this.items.get(linkId)?.text ?? coding.display ?? linkId } : undefined;
  }

  byAnswerCoding(coding: Coding): EvidenceView | undefined {
    for (const [linkId, answers] of this.answered) {
      const match = answers.find(
        (a) => a.valueCoding?.code === coding.code && a.valueCoding?.system === coding.system
      );
      if (match) {
        const label = this.items.get(linkId)?.text ?? linkId;
        return { label, linkId, answers: [formatAnswer(match, this.items.get(linkId))] };
      }
    }
    return undefined;
  }

  answers(linkId: string): string[] {
    return (this.answered.get(linkId) ?? []).map((a) => formatAnswer(a, this.items.get(linkId)));
  }
}

/**
 * One answer as text: Yes/No, a coding's display (and code), a number with its unit.
 * @param answer - The answer.
 * @param item - Its Questionnaire item, for the unit.
 */
export function formatAnswer(answer: QuestionnaireResponseItemAnswer, item?: QuestionnaireItem): string {
  if (answer.valueBoolean !== undefined) {
    return answer.valueBoolean ? 'Yes' : 'No';
  }
  if (answer.valueCoding) {
    return codingText(answer.valueCoding);
  }
  const number = answer.valueDecimal ?? answer.valueInteger;
  if (number !== undefined) {
    const unit = item ? unitLabel(item) : undefined;
    return unit ? `${number} ${unit}` : String(number);
  }
  if (answer.valueQuantity) {
    return `${answer.valueQuantity.value ?? ''} ${answer.valueQuantity.unit ?? answer.valueQuantity.code ?? ''}`.trim();
  }
  return (
    answer.valueString ??
    answer.valueDate ??
    answer.valueDateTime ??
    answer.valueTime ??
    answer.valueUri ??
    answer.valueReference?.display ??
    answer.valueReference?.reference ??
    ''
  );
}

function codingText(coding: Coding): string {
  if (coding.display && coding.code) {
    return `${coding.display} (${coding.code})`;
  }
  return coding.display ?? coding.code ?? '';
}

function observationValue(observation: Observation): string | undefined {
  if (observation.valueQuantity) {
    const q = observation.valueQuantity;
    return `${q.value ?? ''} ${q.unit ?? q.code ?? ''}`.trim();
  }
  if (observation.valueCodeableConcept) {
    const c = observation.valueCodeableConcept;
    return c.text ?? (c.coding?.[0] ? codingText(c.coding[0]) : undefined);
  }
  if (observation.valueBoolean !== undefined) {
    return observation.valueBoolean ? 'Yes' : 'No';
  }
  if (observation.valueInteger !== undefined) {
    return String(observation.valueInteger);
  }
  return observation.valueString;
}

function findRequestGroup(
  carePlan: CarePlan | undefined,
  resources: readonly Resource[],
  byUrl: Map<string, Resource>
): RequestGroup | undefined {
  for (const activity of carePlan?.activity ?? []) {
    const ref = activity.reference?.reference;
    const target = ref?.startsWith('#')
      ? carePlan?.contained?.find((c) => c.id === ref.slice(1))
      : ref
        ? byUrl.get(ref)
        : undefined;
    if (target?.resourceType === 'RequestGroup') {
      return target;
    }
  }
  return resources.find((r): r is RequestGroup => r.resourceType === 'RequestGroup');
}

function strategiesView(
  requestGroup: RequestGroup | undefined,
  byUrl: Map<string, Resource>
): StrategyView[] {
  const top = requestGroup?.action ?? [];
  const resolve = (ref: string | undefined): Resource | undefined => {
    if (!ref) {
      return undefined;
    }
    if (ref.startsWith('#')) {
      return requestGroup?.contained?.find((c) => c.id === ref.slice(1));
    }
    return byUrl.get(ref);
  };
  const known = STRATEGY_TITLES.map((title) => ({
    title,
    recommendations: top.filter((a) => a.title === title).flatMap((a) => recommendationsOf(a, resolve)),
  }));
  const others = top
    .filter((a) => !(STRATEGY_TITLES as readonly string[]).includes(a.title ?? ''))
    .map((a) => ({ title: a.title ?? 'Other actions', recommendations: recommendationsOf(a, resolve) }));
  return [...known, ...others];
}

type Resolve = (ref: string | undefined) => Resource | undefined;

function recommendationsOf(strategy: RequestGroupAction, resolve: Resolve): RecommendationView[] {
  return (strategy.action ?? []).map((action) => {
    const evidence = extensionCodings(action.extension, EVIDENCE_BASIS_URL);
    const rule = extensionCodings(action.extension, RULE_URL)[0];
    return {
      title: action.title ?? 'Recommendation',
      ...(action.description ? { description: action.description } : {}),
      ...(rule ? { rule } : {}),
      evidence,
      evidenceLabel: evidence.length
        ? evidence.map((e) => (e.display ? `${e.code} ${e.display}` : e.code)).join('; ')
        : NO_EVIDENCE_LABEL,
      activities: activitiesOf(action, resolve, undefined),
    };
  });
}

const CHOICE_BEHAVIOURS = new Set(['at-most-one', 'exactly-one', 'one-or-more']);

function activitiesOf(
  action: RequestGroupAction,
  resolve: Resolve,
  choice: string | undefined
): ActivityView[] {
  const children = action.action ?? [];
  if (children.length === 0) {
    const resource = resolve(action.resource?.reference);
    if (!resource && !action.resource && !action.title) {
      return [];
    }
    const intent = resource && 'intent' in resource ? (resource as { intent?: string }).intent : undefined;
    const kind = resource
      ? intent
        ? `${resource.resourceType} (${intent})`
        : resource.resourceType
      : undefined;
    return [
      {
        title: action.title ?? resource?.resourceType ?? 'Activity',
        ...(action.description ? { description: action.description } : {}),
        ...(kind ? { kind } : {}),
        ...(choice ? { choice } : {}),
      },
    ];
  }
  const inner =
    action.selectionBehavior && CHOICE_BEHAVIOURS.has(action.selectionBehavior)
      ? (action.title ?? choice)
      : choice;
  return children.flatMap((child) => activitiesOf(child, resolve, inner));
}

function provenanceView(provenance: Provenance): ProvenanceView {
  return {
    ...(provenance.recorded ? { recorded: provenance.recorded } : {}),
    ...(provenance.occurredDateTime ? { occurred: provenance.occurredDateTime } : {}),
    ...(provenance.activity?.coding?.[0]
      ? { activity: provenance.activity.coding[0].display ?? provenance.activity.coding[0].code }
      : {}),
    agents: (provenance.agent ?? []).map((agent) => ({
      role: agent.type?.coding?.[0]?.display ?? agent.type?.coding?.[0]?.code ?? agent.type?.text ?? 'Agent',
      who: agent.who?.display ?? agent.who?.reference ?? 'unknown',
    })),
    sources: (provenance.entity ?? [])
      .filter((e) => e.role === 'source')
      .map((e) => e.what.display ?? e.what.reference ?? 'unknown'),
    targets: provenance.target?.length ?? 0,
  };
}

function codeView(coding: Coding): CodeView[] {
  if (!coding.code) {
    return [];
  }
  const system = coding.system ?? '';
  return [
    {
      system,
      systemLabel: SYSTEM_LABELS[system] ?? (system || 'local'),
      code: coding.code,
      ...(coding.display ? { display: coding.display } : {}),
    },
  ];
}

function extensionCodings(extensions: readonly Extension[] | undefined, url: string): CodeView[] {
  return (extensions ?? [])
    .filter((e) => e.url === url && e.valueCoding)
    .flatMap((e) => codeView(e.valueCoding!));
}
