import type {
  ActivityDefinition,
  CommunicationRequest,
  MedicationRequest,
  OperationOutcomeIssue,
  Reference,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import type { FhirPathEnv } from '../fhirpath/fhirpath';
import { issue, ReFhirError } from '../outcomes';
import { applyDynamicValues } from './dynamic-values';
import { baseEnvironment, canonicalOf } from './environment';
import type { ApplyEnvironment } from './environment';
import { variableSpecs, withVariableSpecs } from './expression';
import type { ActivityRequest, ApplyDeps, ApplyParameters } from './types';
import { copyJson } from '../json';

export type { ActivityRequest } from './types';

/** The request kinds this processor can create from an ActivityDefinition. */
export const SUPPORTED_KINDS = [
  'ServiceRequest',
  'MedicationRequest',
  'CommunicationRequest',
  'Task',
] as const;

/** One of {@link SUPPORTED_KINDS}. */
export type RequestKind = (typeof SUPPORTED_KINDS)[number];

/** Everything `instantiateActivity` needs besides the definition. */
export interface ActivityContext {
  readonly params: ApplyParameters;
  readonly environment: ApplyEnvironment;
  /** `authoredOn` of the request (ISO dateTime from the injected clock). */
  readonly authoredOn: string;
  /**
   * Inside a RequestGroup every request that has `intent` gets `intent = option` (R4 rule on
   * RequestGroup.action.resource); outside, the definition's intent or `proposal`.
   */
  readonly inRequestGroup: boolean;
  readonly issues: OperationOutcomeIssue[];
}

/**
 * R4 `ActivityDefinition/$apply`: creates the request the definition describes for the subject, then
 * evaluates its dynamic values in order. The result has no `id`; the caller decides how to store it.
 * Throws a `not-found` ReFhirError for an unknown canonical and a `structural` one without a subject.
 * See: https://hl7.org/fhir/R4/activitydefinition-operation-apply.html
 * @param activityDefinition - the definition, or its canonical (`url` or `url|version`)
 * @param params - the `$apply` parameters (subject required)
 * @param deps - canonical resolver and clock
 */
export function applyActivityDefinition(
  activityDefinition: ActivityDefinition | string,
  params: ApplyParameters,
  deps: Pick<ApplyDeps, 'resolve' | 'clock'>
): { resource?: Resource; issues: OperationOutcomeIssue[] } {
  const definition = resolveDefinition<ActivityDefinition>(activityDefinition, 'ActivityDefinition', deps);
  const issues: OperationOutcomeIssue[] = [];
  const resource = instantiateActivity(definition, {
    params,
    environment: baseEnvironment(params),
    authoredOn: deps.clock().toISOString(),
    inRequestGroup: false,
    issues,
  });
  return resource ? { resource, issues } : { issues };
}

/**
 * Resolves a definition given by value or canonical; throws a `not-found` ReFhirError when the
 * canonical is unknown or names another resource type.
 * @param definition - the resource or its canonical
 * @param resourceType - the expected type
 * @param deps - the resolver
 */
export function resolveDefinition<T extends Resource>(
  definition: T | string,
  resourceType: T['resourceType'],
  deps: Pick<ApplyDeps, 'resolve'>
): T {
  if (typeof definition !== 'string') {
    return definition;
  }
  const resolved = deps.resolve(definition);
  if (!resolved || resolved.resourceType !== resourceType) {
    throw new ReFhirError('not-found', [
      issue('error', 'not-found', `${resourceType} ${definition} is not known`, `${resourceType}.url`),
    ]);
  }
  return resolved as T;
}

/**
 * Creates the request for one ActivityDefinition (no id). Unsupported kinds give an issue and
 * `undefined`. Mapping (R4 names): code → code (ServiceRequest, Task) or category
 * (CommunicationRequest, which has no code); product[x] → medication[x]; dosage → dosageInstruction;
 * quantity → quantityQuantity / dispenseRequest.quantity; timing[x] → occurrence[x] (or Task
 * executionPeriod); bodySite; priority; doNotPerform (not on Task); participant.role → performerType;
 * location → locationReference; profile → meta.profile; description → note (ServiceRequest,
 * MedicationRequest), description (Task) or the first payload (CommunicationRequest); url|version →
 * instantiatesCanonical (not on CommunicationRequest, which has no such element in R4).
 * @param definition - the ActivityDefinition
 * @param context - parameters, environment, clock value and issue sink
 */
export function instantiateActivity(
  definition: ActivityDefinition,
  context: ActivityContext
): ActivityRequest | undefined {
  const where = `ActivityDefinition ${canonicalOf(definition)}`;
  const kind = definition.kind as string | undefined;
  if (!kind || !(SUPPORTED_KINDS as readonly string[]).includes(kind)) {
    context.issues.push(
      issue(
        'error',
        'not-supported',
        `${where}: kind ${JSON.stringify(kind ?? '')} is not supported (supported: ${SUPPORTED_KINDS.join(', ')})`,
        'ActivityDefinition.kind'
      )
    );
    return undefined;
  }
  const request = build(kind as RequestKind, definition, context, where);
  const specs = variableSpecs(definition.extension, 'ActivityDefinition');
  // Without variables the dynamic values alone read the environment, always on the request: it is
  // made with the request as focus at once, as applyDynamicValues would make it from the data's.
  const env: FhirPathEnv =
    specs.length > 0
      ? withVariableSpecs(
          specs,
          context.environment.data,
          context.environment.env,
          { activityDefinition: definition },
          where,
          context.issues
        )
      : definition.dynamicValue?.length
        ? {
            ...context.environment.env,
            activityDefinition: definition,
            resource: request,
            rootResource: request,
          }
        : context.environment.env;
  applyDynamicValues(
    definition.dynamicValue,
    request,
    kind,
    env,
    'ActivityDefinition.dynamicValue',
    where,
    context.issues
  );
  if (context.inRequestGroup) {
    keepAsOption(request, where, 'ActivityDefinition.dynamicValue', context.issues);
  }
  return request;
}

/**
 * Holds a grouped request at status `draft` and (where R4 has the element) intent `option`, as R4
 * requires of RequestGroup.action.resource; a dynamic value that changed them is reported and undone.
 * @param request - the request inside a RequestGroup (modified in place)
 * @param where - human-readable owner, for issue text
 * @param location - FHIRPath location of the dynamic values that ran last
 * @param issues - collects issues
 */
export function keepAsOption(
  request: ActivityRequest,
  where: string,
  location: string,
  issues: OperationOutcomeIssue[]
): void {
  const changed: string[] = [];
  if (request.status !== 'draft') {
    changed.push(`status ${request.status}`);
    request.status = 'draft';
  }
  if (request.resourceType !== 'CommunicationRequest' && request.intent !== 'option') {
    changed.push(`intent ${request.intent}`);
    request.intent = 'option';
  }
  if (changed.length > 0) {
    issues.push(
      issue(
        'warning',
        'business-rule',
        `${where}: a request in a RequestGroup stays draft with intent option; dynamic values set ${changed.join(' and ')}, which was undone`,
        location
      )
    );
  }
}

function build(
  kind: RequestKind,
  ad: ActivityDefinition,
  context: ActivityContext,
  where: string
): ActivityRequest {
  const { params } = context;
  // The subject may be any of the $apply subject types; typed references cannot express that.
  const subject = { reference: params.subject } as Reference<never>;
  const encounter = params.encounter ? { reference: params.encounter } : undefined;
  const requester = params.practitioner ? { reference: params.practitioner } : undefined;
  const intent = (context.inRequestGroup ? 'option' : (ad.intent ?? 'proposal')) as never;
  const common = {
    ...(ad.profile ? { meta: { profile: [ad.profile] } } : {}),
    status: 'draft' as const,
    ...(ad.priority ? { priority: ad.priority } : {}),
  };
  const unmappedTiming = (allowed: readonly string[]): void => {
    for (const key of [
      'timingTiming',
      'timingDateTime',
      'timingAge',
      'timingPeriod',
      'timingRange',
      'timingDuration',
    ]) {
      if ((ad as unknown as Record<string, unknown>)[key] !== undefined && !allowed.includes(key)) {
        context.issues.push(
          issue(
            'warning',
            'not-supported',
            `${where}: ${key} has no counterpart on ${kind}; it was not copied`,
            `ActivityDefinition.${key}`
          )
        );
      }
    }
  };
  const clone = <T>(value: T): T => copyJson(value);
  switch (kind) {
    case 'ServiceRequest': {
      unmappedTiming(['timingTiming', 'timingDateTime', 'timingPeriod']);
      const request: ServiceRequest = {
        resourceType: 'ServiceRequest',
        ...common,
        intent,
        instantiatesCanonical: [canonicalOf(ad)],
        ...(ad.doNotPerform !== undefined ? { doNotPerform: ad.doNotPerform } : {}),
        ...(ad.code ? { code: clone(ad.code) } : {}),
        ...(ad.quantity ? { quantityQuantity: clone(ad.quantity) } : {}),
        subject,
        ...(encounter ? { encounter } : {}),
        ...(ad.timingDateTime ? { occurrenceDateTime: ad.timingDateTime } : {}),
        ...(ad.timingPeriod ? { occurrencePeriod: clone(ad.timingPeriod) } : {}),
        ...(ad.timingTiming ? { occurrenceTiming: clone(ad.timingTiming) } : {}),
        authoredOn: context.authoredOn,
        ...(requester ? { requester } : {}),
        ...(ad.participant?.[0]?.role ? { performerType: clone(ad.participant[0].role) } : {}),
        ...(ad.location ? { locationReference: [clone(ad.location)] } : {}),
        ...(ad.bodySite ? { bodySite: clone(ad.bodySite) } : {}),
        ...(ad.description ? { note: [{ text: ad.description }] } : {}),
      };
      return request;
    }
    case 'MedicationRequest': {
      unmappedTiming([]);
      if (!ad.productCodeableConcept && !ad.productReference) {
        context.issues.push(
          issue(
            'warning',
            'incomplete',
            `${where}: a MedicationRequest needs product[x]; the request has no medication`,
            'ActivityDefinition.product'
          )
        );
      }
      const request: MedicationRequest = {
        resourceType: 'MedicationRequest',
        ...common,
        intent,
        instantiatesCanonical: [canonicalOf(ad)],
        ...(ad.doNotPerform !== undefined ? { doNotPerform: ad.doNotPerform } : {}),
        ...(ad.productCodeableConcept ? { medicationCodeableConcept: clone(ad.productCodeableConcept) } : {}),
        ...(ad.productReference ? { medicationReference: clone(ad.productReference) } : {}),
        subject,
        ...(encounter ? { encounter } : {}),
        authoredOn: context.authoredOn,
        ...(requester ? { requester } : {}),
        ...(ad.participant?.[0]?.role ? { performerType: clone(ad.participant[0].role) } : {}),
        ...(ad.description ? { note: [{ text: ad.description }] } : {}),
        ...(ad.dosage ? { dosageInstruction: clone(ad.dosage) } : {}),
        ...(ad.quantity ? { dispenseRequest: { quantity: clone(ad.quantity) } } : {}),
      } as MedicationRequest;
      return request;
    }
    case 'CommunicationRequest': {
      unmappedTiming(['timingDateTime', 'timingPeriod']);
      const request: CommunicationRequest = {
        resourceType: 'CommunicationRequest',
        ...common,
        ...(ad.code ? { category: [clone(ad.code)] } : {}),
        ...(ad.doNotPerform !== undefined ? { doNotPerform: ad.doNotPerform } : {}),
        subject,
        ...(encounter ? { encounter } : {}),
        ...(ad.description ? { payload: [{ contentString: ad.description }] } : {}),
        ...(ad.timingDateTime ? { occurrenceDateTime: ad.timingDateTime } : {}),
        ...(ad.timingPeriod ? { occurrencePeriod: clone(ad.timingPeriod) } : {}),
        authoredOn: context.authoredOn,
        ...(requester ? { requester } : {}),
      } as CommunicationRequest;
      return request;
    }
    case 'Task': {
      unmappedTiming(['timingPeriod']);
      if (ad.doNotPerform !== undefined) {
        context.issues.push(
          issue(
            'warning',
            'not-supported',
            `${where}: Task has no doNotPerform in R4; it was not copied`,
            'ActivityDefinition.doNotPerform'
          )
        );
      }
      const request: Task = {
        resourceType: 'Task',
        ...common,
        instantiatesCanonical: canonicalOf(ad),
        intent,
        ...(ad.code ? { code: clone(ad.code) } : {}),
        ...(ad.description ? { description: ad.description } : {}),
        for: subject,
        ...(encounter ? { encounter } : {}),
        ...(ad.timingPeriod ? { executionPeriod: clone(ad.timingPeriod) } : {}),
        authoredOn: context.authoredOn,
        ...(requester ? { requester } : {}),
        ...(ad.participant?.some((p) => p.role)
          ? { performerType: ad.participant.flatMap((p) => (p.role ? [clone(p.role)] : [])) }
          : {}),
      } as Task;
      return request;
    }
  }
}
