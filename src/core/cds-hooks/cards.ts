import type {
  Bundle,
  BundleEntry,
  CodeSystem,
  Coding,
  Extension,
  OperationOutcomeIssue,
  PlanDefinition,
  Questionnaire,
  RelatedArtifact,
  RequestGroupAction,
  Resource,
} from '@medplum/fhirtypes';
import { RULE_EXTENSION } from '../constants';
import type { EngineDeps } from '../operations/engine';
import { hasErrors, issue, ReFhirError } from '../outcomes';
import { applyPlanDefinition } from '../plan';
import type { CdsCard, CdsLink, CdsRequest, CdsResponse, RecordBundle } from './types';

/** Extension on a rule action naming where the rule comes from (CodeSystem re-evidence-basis). */
export const EVIDENCE_BASIS_EXTENSION = 'http://re-fhir.org/fhir/StructureDefinition/re-evidence-basis';

/** Options of {@link cdsCards} that are deployment settings, not request data. */
export interface CardOptions {
  /**
   * The SMART launch URL of the app that completes a Questionnaire; an action that asks for a
   * Questionnaire becomes a `smart` link to it. Without it, no app link is offered.
   */
  readonly launchUrl?: string;
}

// CDS Hooks has three indicators; the R4 request priorities map onto them by urgency.
const INDICATOR: Readonly<Record<string, CdsCard['indicator']>> = {
  routine: 'info',
  urgent: 'warning',
  asap: 'critical',
  stat: 'critical',
};

/**
 * The record the rules read, as one collection Bundle: every prefetched resource (a search Bundle
 * contributes its entries), every resource in the hook context (e.g. `draftOrders`), and the ValueSets
 * the PlanDefinition declares as `depends-on`, so that its FHIRPath can test membership without a
 * terminology server. Each record resource must be valid base R4 (400 otherwise).
 * @param planDefinition - the hook's rule
 * @param request - the checked hook request
 * @param fetched - resources the adapter fetched for prefetch keys the client did not send
 * @param deps - registry (for the ValueSets) and validator
 */
export function recordBundle(
  planDefinition: PlanDefinition,
  request: CdsRequest,
  fetched: Readonly<Record<string, Resource>>,
  deps: Pick<EngineDeps, 'registry' | 'validator'>
): RecordBundle {
  const entries: BundleEntry[] = [];
  const problems: OperationOutcomeIssue[] = [];
  const add = (resource: Resource, where: string): void => {
    if (resource.resourceType === 'Bundle') {
      ((resource as Bundle).entry ?? []).forEach((entry, i) => {
        if (entry.resource) {
          add(entry.resource, `${where}.entry[${i}].resource`);
        }
      });
      return;
    }
    const result = deps.validator.validate(resource);
    if (result.failure === 'structural') {
      const first = result.issues.find((i) => i.severity === 'error' || i.severity === 'fatal');
      problems.push(
        issue(
          'error',
          'structure',
          `${where} is not valid FHIR R4: ${first?.details?.text ?? 'invalid'}`,
          where
        )
      );
      return;
    }
    entries.push({ resource });
  };
  for (const [key, value] of Object.entries(request.context)) {
    if (isResource(value)) {
      add(value, `context.${key}`);
    }
  }
  for (const [key, value] of Object.entries({ ...request.prefetch, ...fetched })) {
    if (isResource(value)) {
      add(value, `prefetch.${key}`);
    }
  }
  if (problems.length > 0) {
    throw new ReFhirError('structural', problems.slice(0, 20));
  }
  for (const artifact of planDefinition.relatedArtifact ?? []) {
    const valueSet =
      artifact.type === 'depends-on' && artifact.resource
        ? deps.registry.resolve(artifact.resource)
        : undefined;
    if (valueSet?.resourceType === 'ValueSet') {
      entries.push({ resource: valueSet });
    }
  }
  return { resourceType: 'Bundle', type: 'collection', entry: entries };
}

function isResource(value: unknown): value is Resource {
  return typeof value === 'object' && value !== null && typeof (value as Resource).resourceType === 'string';
}

/**
 * Applies a hook's PlanDefinition to the record with the existing R4 `$apply` processor and turns each
 * applicable top-level action into a card: title → summary; description, the record entries it rests on
 * (the action's `textEquivalent`, set by a dynamic value), its rule and that rule's evidence basis, and
 * its citations → detail; priority → indicator; the rule coding → `source.topic`; documentation URLs
 * → absolute links; a Questionnaire to complete → a SMART app link. An error in the rule is ours: it
 * throws an `internal` ReFhirError.
 * See: https://cds-hooks.hl7.org/2.0/#card-attributes
 * @param planDefinition - the hook's rule
 * @param request - the checked hook request
 * @param record - the record, from {@link recordBundle}
 * @param deps - registry, clock and id generator
 * @param options - the app launch URL
 */
export function cdsCards(
  planDefinition: PlanDefinition,
  request: CdsRequest,
  record: RecordBundle,
  deps: Pick<EngineDeps, 'registry' | 'clock' | 'newId'>,
  options: CardOptions = {}
): CdsResponse {
  const { context } = request;
  const userId =
    typeof context.userId === 'string' && /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(context.userId);
  const applied = applyPlanDefinition(
    planDefinition,
    {
      subject: `Patient/${context.patientId}`,
      ...(typeof context.encounterId === 'string' ? { encounter: `Encounter/${context.encounterId}` } : {}),
      ...(userId ? { practitioner: context.userId as string } : {}),
      data: record,
    },
    { resolve: (canonical) => deps.registry.resolve(canonical), clock: deps.clock, newId: deps.newId }
  );
  if (hasErrors(applied.issues)) {
    throw new ReFhirError('internal', [...applied.issues]);
  }
  const cards = (applied.requestGroup.action ?? []).map((action) =>
    toCard(action, planDefinition, deps, options)
  );
  return { cards };
}

function toCard(
  action: RequestGroupAction,
  planDefinition: PlanDefinition,
  deps: Pick<EngineDeps, 'registry' | 'newId'>,
  options: CardOptions
): CdsCard {
  const rule = codingOf(action.extension, RULE_EXTENSION);
  const links = [...documentationLinks(action.documentation), ...appLinks(action, deps, options)];
  return {
    uuid: deps.newId(),
    summary: action.title ?? planDefinition.title ?? planDefinition.name ?? 'Decision support',
    detail: detailOf(action, rule, deps),
    indicator: INDICATOR[action.priority ?? 'routine'] ?? 'info',
    source: {
      label: planDefinition.publisher ?? planDefinition.title ?? 'Decision support',
      ...(rule ? { topic: rule } : {}),
    },
    ...(links.length > 0 ? { links } : {}),
  };
}

function detailOf(
  action: RequestGroupAction,
  rule: Coding | undefined,
  deps: Pick<EngineDeps, 'registry'>
): string {
  const parts: string[] = [];
  if (action.description) {
    parts.push(action.description);
  }
  if (action.textEquivalent) {
    parts.push(action.textEquivalent);
  }
  if (rule) {
    const bases = (action.extension ?? []).filter((e) => e.url === EVIDENCE_BASIS_EXTENSION && e.valueCoding);
    const basis = bases.map((e) => displayOf(e.valueCoding!, deps));
    const system = bases[0]?.valueCoding?.system;
    const title = system ? deps.registry.resolve<CodeSystem>(system, 'CodeSystem')?.title : undefined;
    parts.push(
      `Rule ${rule.code}${rule.display ? ` (${rule.display})` : ''}.` +
        (basis.length > 0 ? ` ${title ?? 'Evidence basis'}: ${basis.join('; ')}.` : '')
    );
  }
  const citations = (action.documentation ?? []).filter((d) => d.citation).map((d) => `- ${d.citation}`);
  if (citations.length > 0) {
    parts.push(['Sources:', ...citations].join('\n'));
  }
  return parts.join('\n\n');
}

/** The display the CodeSystem gives a code (so the card says what our CodeSystem says), else the coding's. */
function displayOf(coding: Coding, deps: Pick<EngineDeps, 'registry'>): string {
  const codeSystem = coding.system
    ? deps.registry.resolve<CodeSystem>(coding.system, 'CodeSystem')
    : undefined;
  const concept = codeSystem?.concept?.find((c) => c.code === coding.code);
  return concept?.display ?? coding.display ?? coding.code ?? '';
}

function codingOf(extensions: readonly Extension[] | undefined, url: string): Coding | undefined {
  return extensions?.find((e) => e.url === url)?.valueCoding;
}

function documentationLinks(documentation: readonly RelatedArtifact[] | undefined): CdsLink[] {
  return (documentation ?? [])
    .filter((d) => d.url && /^https?:\/\//.test(d.url))
    .map((d) => ({ label: d.display ?? d.label ?? d.url!, url: d.url!, type: 'absolute' as const }));
}

function appLinks(
  action: RequestGroupAction,
  deps: Pick<EngineDeps, 'registry'>,
  options: CardOptions
): CdsLink[] {
  const reference = action.resource?.reference;
  const questionnaire = reference
    ? deps.registry.resolve<Questionnaire>(reference, 'Questionnaire')
    : undefined;
  if (!questionnaire || !options.launchUrl) {
    return [];
  }
  return [
    {
      label: `Open ${questionnaire.title ?? questionnaire.name ?? 'the form'}`,
      url: options.launchUrl,
      type: 'smart',
      appContext: JSON.stringify({ questionnaire: reference }),
    },
  ];
}

/** Substitutes `{{context.name}}` tokens of a prefetch template; an unknown token leaves the query unusable (undefined). */
export function resolvePrefetchTemplate(
  template: string,
  context: Readonly<Record<string, unknown>>
): string | undefined {
  let usable = true;
  const query = template.replace(/\{\{\s*context\.([A-Za-z]+)\s*\}\}/g, (_m, name: string) => {
    const value = context[name];
    if (typeof value !== 'string') {
      usable = false;
      return '';
    }
    return encodeURIComponent(value);
  });
  return usable && !/\{\{/.test(query) ? query : undefined;
}
