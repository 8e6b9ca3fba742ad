import type {
  Bundle,
  BundleEntry,
  CarePlan,
  Condition,
  OperationOutcomeIssue,
  QuestionnaireResponse,
  Resource,
} from '@medplum/fhirtypes';
import { KEY_SYSTEM, MANAGEMENT_PATHWAY, PROFILE, RULE_EXTENSION } from '../constants';
import { buildProvenance, PROVENANCE_KEY_SYSTEM, provenanceKey } from '../bundle/provenance';
import type { PreviousWrites } from '../bundle/reconcile';
import { closingEntries } from '../bundle/reconcile';
import { transactionBundle } from '../bundle/transaction';
import { nameUuid } from '../bundle/uuid';
import { declaredKeys } from '../extract/declared-keys';
import { narrate } from '../narrative/narrative';
import { issue } from '../outcomes';
import { applyPlanDefinition, movedEntries } from '../plan';
import type { EngineDeps } from './engine';
import { blameFor } from './engine';
import { extractOperation } from './extract';
import { originKey } from './origin-key';
import type { ResponseInput } from './response-input';
import { validateOutput } from './validate-output';

/** Options of {@link evaluateResponse}; every default is the module's own content. */
export interface EvaluateOptions extends ResponseInput {
  /** The PlanDefinition applied after extraction (`url|version`). */
  readonly planDefinition?: string;
  readonly encounter?: string;
  readonly practitioner?: string;
  readonly organization?: string;
  /** Identifier system of the conditional keys of the plan's resources. */
  readonly keySystem?: string;
  /**
   * What an earlier evaluation of the same response wrote, as stored (resources or a searchset Bundle).
   * Given, the transaction also closes what the response no longer supports (docs/amendments.md).
   */
  readonly previous?: PreviousWrites;
}

/** The evaluation of one response. */
export interface Evaluation {
  /** One transaction: conditional updates keyed by identifier, and the Provenance by id. */
  readonly bundle: Bundle;
  /** The response with its calculated case features, as the templates and rules read it. */
  readonly response: QuestionnaireResponse;
  readonly conditions: Condition[];
  readonly carePlan?: CarePlan;
  /** Warnings and information; errors throw instead. */
  readonly issues: OperationOutcomeIssue[];
}

/**
 * Evaluates a completed QuestionnaireResponse end to end:
 * 1. checks and completes it (structure, Questionnaire, profiles, SDC calculation);
 * 2. SDC template extraction: Conditions and Observations;
 * 3. R4 `$apply` of the management pathway over the response and the extracted Conditions;
 * 4. narratives and a Provenance naming the response as source;
 * 5. validation of every generated resource against its profiles (a failure is our bug: 500);
 * 6. one transaction Bundle of idempotent writes.
 * Pure: the clock and id generator come from `deps`. Throws a ReFhirError on any failure.
 */
export function evaluateResponse(
  input: unknown,
  engine: EngineDeps,
  options: EvaluateOptions = {}
): Evaluation {
  // One instant per evaluation: `now()` in the content, each request's authoredOn, the Provenance's
  // recorded and the Bundle's timestamp all agree, however long the evaluation takes.
  const instant = engine.clock().getTime();
  const deps: EngineDeps = { ...engine, clock: () => new Date(instant) };
  // 1–2. Check, complete and extract.
  const extracted = extractOperation(input, deps, {
    ...options,
    responseProfiles: options.responseProfiles ?? [PROFILE.questionnaireResponse],
  });
  const response = extracted.checked.completed;
  const issues = [...extracted.issues];
  // The extracted entries and resources are this call's own: their narratives are set in place.
  const extractedEntries = extracted.bundle.entry ?? [];
  for (const entry of extractedEntries) {
    narrate(entry.resource as Resource);
  }

  // 3. Apply the pathway with the response and the extracted resources as `data`.
  const keySystem = options.keySystem ?? KEY_SYSTEM;
  const planEntries = applyPathway(response, extractedEntries, deps, options, keySystem, issues);

  // 4. What an earlier evaluation wrote and this one no longer supports is closed, then a Provenance
  // over everything written (nothing written, nothing to attest).
  const closing = options.previous
    ? closingEntries(response, [...extractedEntries, ...planEntries], options.previous, keySystem)
    : [];
  const written = [...extractedEntries, ...planEntries, ...closing];
  const all: BundleEntry[] = [...written];
  if (written.length > 0) {
    const key = provenanceKey(response);
    all.push({
      fullUrl: `urn:uuid:${key}`,
      resource: narrate(
        buildProvenance(
          response,
          written.map((e) => e.fullUrl!),
          deps.clock(),
          key
        )
      ),
      request: { method: 'POST', url: 'Provenance', ifNoneExist: `_tag=${PROVENANCE_KEY_SYSTEM}|${key}` },
    });
  } else {
    issues.push(
      issue(
        'information',
        'informational',
        'The response supports no resource to write: the transaction is empty'
      )
    );
  }

  // 5. Our output must meet our profiles (a Questionnaire given by the caller makes its faults theirs;
  // a closing write is a copy of what the caller says is stored, so its faults are the caller's too).
  // Without `previous` nothing is closed: every entry is ours, with no set or filtered copy to build.
  let ours = all;
  if (closing.length > 0) {
    const closingUrls = new Set(closing.map((e) => e.fullUrl));
    ours = all.filter((e) => !closingUrls.has(e.fullUrl));
  }
  validateOutput(ours, deps, blameFor(extracted.checked.questionnaire, deps));
  validateOutput(closing, deps, 'conformance');

  if (closing.length > 0) {
    issues.push(
      issue(
        'information',
        'informational',
        `Closed ${closing.length} resources an earlier evaluation of this response wrote and it no longer supports: ${closing
          .map((e) => (e.request?.ifNoneExist ?? '').split('|').pop())
          .join(', ')}`
      )
    );
  }
  if (response.status === 'amended' && !options.previous) {
    issues.push(...unsupportedAfterAmendment(extracted.checked.questionnaire, response, extractedEntries));
  }

  // 6. One transaction of idempotent writes.
  const conditions = extractedEntries
    .map((e) => e.resource)
    .filter((r): r is Condition => r?.resourceType === 'Condition');
  const carePlan = planEntries
    .map((e) => e.resource)
    .find((r): r is CarePlan => r?.resourceType === 'CarePlan');
  return { bundle: transactionBundle(all, deps.clock()), response, conditions, carePlan, issues };
}

function applyPathway(
  response: QuestionnaireResponse,
  extracted: readonly BundleEntry[],
  deps: EngineDeps,
  options: EvaluateOptions,
  keySystem: string,
  issues: OperationOutcomeIssue[]
): BundleEntry[] {
  const subject = response.subject?.reference;
  if (!subject) {
    return [];
  }
  const responseRef = `QuestionnaireResponse/${response.id}`;
  const data: Bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      { fullUrl: `urn:uuid:${nameUuid(responseRef)}`, resource: response },
      ...extracted.map(({ fullUrl, resource }) => ({ fullUrl, resource })),
    ],
  };
  const addresses = extracted
    .filter((e) => e.resource?.resourceType === 'Condition' && !isRefuted(e.resource as Condition))
    .map((e) => e.fullUrl!);
  const key = (suffix: string): { system: string; value: string } => ({
    system: keySystem,
    value: `${response.id}-${suffix}`,
  });

  const applied = applyPlanDefinition(
    options.planDefinition ?? MANAGEMENT_PATHWAY,
    {
      subject,
      encounter: options.encounter ?? response.encounter?.reference,
      practitioner: options.practitioner,
      organization: options.organization,
      data,
      addresses,
      supportingInfo: [responseRef],
    },
    { resolve: (canonical) => deps.registry.resolve(canonical), clock: deps.clock, newId: deps.newId },
    {
      carePlanExtensionUrls: [RULE_EXTENSION],
      requestExtensionUrls: [RULE_EXTENSION],
      carePlanBase: {
        meta: { profile: [PROFILE.carePlan] },
        identifier: [key('careplan')],
        category: [
          {
            coding: [
              {
                system: 'http://hl7.org/fhir/us/core/CodeSystem/careplan-category',
                code: 'assess-plan',
                display: 'Assessment and Plan of Treatment',
              },
            ],
          },
        ],
      },
      requestIdentifier: ({ planDefinition, path }) => key(originKey(planDefinition, path)),
      // The evaluation does not return the trace.
      trace: false,
    }
  );
  issues.push(...applied.issues.filter((i) => i.severity !== 'information'));
  if (applied.requests.length === 0 && applied.requestGroup.action === undefined) {
    issues.push(
      issue(
        'information',
        'informational',
        'No management rule applies to this response: no CarePlan was created'
      )
    );
    return [];
  }
  const requestGroupId = `urn:uuid:${applied.requestGroup.id}`;
  return movedEntries(applied).map(({ fullUrl, resource }) => {
    // Moved resources are this call's own: the RequestGroup's key and the narratives are set in place.
    const keyed = resource as Resource & { identifier?: { system?: string; value?: string }[] };
    if (fullUrl === requestGroupId) {
      keyed.identifier = [key('requestgroup')];
    }
    const identifier = keyed.identifier?.find((i) => i.system === keySystem);
    return {
      fullUrl,
      resource: narrate(keyed),
      request: {
        method: 'POST',
        url: keyed.resourceType,
        ...(identifier ? { ifNoneExist: `identifier=${keySystem}|${identifier.value}` } : {}),
      },
    };
  });
}

function isRefuted(condition: Condition): boolean {
  const code = condition.verificationStatus?.coding?.[0]?.code;
  return code === 'refuted' || code === 'entered-in-error';
}

/**
 * For an amended response evaluated without `previous`: the resources its templates could produce
 * but this version did not. They may exist from an earlier version, which this module cannot see, so
 * it says so (docs/amendments.md); with `previous` they are closed instead.
 */
function unsupportedAfterAmendment(
  questionnaire: Parameters<typeof declaredKeys>[0],
  response: QuestionnaireResponse,
  extracted: readonly BundleEntry[]
): OperationOutcomeIssue[] {
  const produced = new Set(extracted.map((e) => e.request?.ifNoneExist));
  // Only Conditions: a stale clinical assertion matters; a stale Observation is a past result.
  return declaredKeys(questionnaire, response)
    .filter((k) => k.resourceType === 'Condition' && !produced.has(k.ifNoneExist))
    .map((k) =>
      issue(
        'warning',
        'informational',
        `The amended response no longer supports the Condition keyed ${k.ifNoneExist} (template ${k.template}); any copy extracted from an earlier version is left unchanged and should be reviewed`
      )
    );
}
