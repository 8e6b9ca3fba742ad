import type { Request, Response } from 'express';
import { Router } from 'express';
import type {
  Bundle,
  Encounter,
  Identifier,
  ParametersParameter,
  Patient,
  Questionnaire,
  Resource,
} from '@medplum/fhirtypes';
import { isObject } from '../../core/json';
import type { LaunchContext, RecordQuery } from '../../core/populate';
import { populateParameters, populateResponse, recordQuery } from '../../core/populate';
import { authorize, readNeed } from '../auth/scopes';
import { bearerToken, CHALLENGE } from '../auth/token';
import type { AppContext, Routes } from '../context';
import { httpError, methodNotAllowed } from '../errors';
import { inlineDefinition } from '../inline-definitions';
import { OperationInput } from '../parameters';
import { sendResource } from '../send';
import type { CallContext, UpstreamClient } from '../upstream/client';
import { upstreamRecordQuery } from '../upstream/record-query';

/** SDC `Questionnaire/$populate`. */
export const SDC_POPULATE = 'http://hl7.org/fhir/uv/sdc/OperationDefinition/Questionnaire-populate';

/** The SDC input parameters, and `record` (ours): the patient's resources, for local population. */
const KNOWN = ['identifier', 'canonical', 'questionnaire', 'subject', 'context', 'local', 'record'];

/** What the shipped content searches: the caller must be allowed to read these for the subject. */
const READ_NEEDS = [
  'Patient',
  'Condition',
  'Procedure',
  'MedicationRequest',
  'MedicationStatement',
  'Observation',
].map((t) => readNeed(t, t !== 'Patient'));

const CONTEXT_NAMES = new Set(['patient', 'user', 'encounter']);
const PATIENT_REFERENCE = /^Patient\/([A-Za-z0-9\-.]{1,64})$/;

interface PopulateRequest {
  readonly questionnaire: Questionnaire;
  readonly patientId: string;
  readonly contexts: ReadonlyMap<string, Resource | string>;
  readonly local?: boolean;
  readonly record?: Bundle;
}

/**
 * SDC `$populate` at type (`POST /Questionnaire/$populate`) and instance level
 * (`POST /Questionnaire/{id}/$populate`): the pre-filled QuestionnaireResponse (`in-progress`) as SDC
 * output Parameters (`response`, and `issues` when there are any). Nothing is stored.
 *
 * Where the record comes from:
 * - `record` given (a Bundle of the patient's resources): searched in memory, on any server;
 * - else, with an upstream FHIR server and `local` not true: searched there with the caller's own bearer
 *   token (never the server's credentials), so the upstream shows only what the caller may see;
 * - else 400: this server stores no records.
 * @param ctx - The app context.
 */
export function questionnairePopulateRoutes(ctx: AppContext): Routes {
  const router = Router();

  const handle = async (req: Request, res: Response, id?: string): Promise<void> => {
    const input = populateRequest(req, ctx, id);
    const subject = `Patient/${input.patientId}`;
    authorize(req, READ_NEEDS, { subject });
    let query: RecordQuery;
    let patient: Patient;
    if (input.record) {
      query = recordQuery(input.record);
      patient = givenPatient(input, findIn(input.record, subject) as Patient | undefined);
    } else if (ctx.upstream && input.local !== true) {
      if (req.get('authorization') === undefined) {
        throw httpError(
          401,
          'login',
          'Population from the upstream FHIR server reads with the caller\u2019s own token: send it as Authorization: Bearer',
          { 'WWW-Authenticate': CHALLENGE }
        );
      }
      const call: CallContext = { requestId: req.requestId, log: req.log, bearer: bearerToken(req) };
      query = upstreamRecordQuery(ctx.upstream, call);
      patient = givenPatient(input, await upstreamPatient(ctx.upstream, input, call));
    } else {
      throw httpError(
        400,
        'required',
        ctx.upstream
          ? 'local population needs the record: give the patient\u2019s resources as parameter record (a Bundle); this server stores no records'
          : 'This server has no upstream FHIR server and stores no records: give the patient\u2019s resources as parameter record (a Bundle)'
      );
    }
    const launch: LaunchContext = {
      patient,
      ...contextResource<Resource>(input, 'user'),
      ...contextResource<Encounter>(input, 'encounter'),
    };
    const { response, issues } = await populateResponse(input.questionnaire, {
      context: launch,
      query,
      now: ctx.deps.clock(),
    });
    const output = populateParameters({ response, issues });
    req.log.info({ answered: countAnswered(response.item), issues: issues.length }, 'populated');
    sendResource(req, res, 200, output);
  };

  router.post('/Questionnaire/\\$populate', (req, res) => handle(req, res));
  router.post('/Questionnaire/:id/\\$populate', (req, res) => handle(req, res, req.params.id));
  router.all('/Questionnaire/\\$populate', methodNotAllowed(['POST']));
  router.all('/Questionnaire/:id/\\$populate', methodNotAllowed(['POST']));

  return {
    router,
    served: [
      {
        type: 'Questionnaire',
        documentation:
          '$populate pre-fills a QuestionnaireResponse from the patient record (given as parameter record, or read from the upstream FHIR server with the caller\u2019s token).',
        operations: [{ name: 'populate', definition: SDC_POPULATE }],
      },
    ],
  };
}

/** Reads and checks the operation's input; every malformed part is a 400 OperationOutcome. */
function populateRequest(req: Request, ctx: AppContext, id: string | undefined): PopulateRequest {
  const body: unknown = req.body;
  if (!isObject(body) || body.resourceType !== 'Parameters') {
    throw httpError(400, 'structure', 'The body must be a Parameters resource (SDC $populate input)');
  }
  const params = OperationInput.fromParameters(body, KNOWN);
  return {
    questionnaire: questionnaireOf(ctx, params, id),
    patientId: subjectOf(params),
    contexts: contextsOf(params),
    local: params.boolean('local'),
    record: recordOf(params),
  };
}

function questionnaireOf(ctx: AppContext, params: OperationInput, id: string | undefined): Questionnaire {
  const given = ['identifier', 'canonical', 'questionnaire'].filter((n) => params.has(n));
  if (id !== undefined) {
    if (given.length > 0) {
      throw httpError(
        400,
        'invalid',
        `At instance level the Questionnaire is ${id}; do not also give ${given.join(', ')}`
      );
    }
    const found = ctx.deps.registry.read<Questionnaire>('Questionnaire', id);
    if (!found) {
      throw httpError(404, 'not-found', `Questionnaire/${id} is not known to this server`);
    }
    return found;
  }
  if (given.length !== 1) {
    throw httpError(
      400,
      given.length === 0 ? 'required' : 'invalid',
      'Give exactly one of identifier, canonical and questionnaire (or call $populate on a Questionnaire instance)'
    );
  }
  if (params.has('questionnaire')) {
    return inlineDefinition<Questionnaire>(ctx, params, 'questionnaire', 'Questionnaire')!;
  }
  if (params.has('canonical')) {
    const canonical = params.string('canonical')!;
    const found = ctx.deps.registry.resolve<Questionnaire>(canonical, 'Questionnaire');
    if (!found) {
      throw httpError(404, 'not-found', `Questionnaire ${canonical} is not known to this server`);
    }
    return found;
  }
  const identifier = single(params, 'identifier').valueIdentifier;
  if (!isObject(identifier) || typeof identifier.value !== 'string') {
    throw httpError(400, 'invalid', 'Parameter identifier must be an Identifier with a value');
  }
  const found = ctx.deps.registry
    .ofType<Questionnaire>('Questionnaire')
    .find((q) => (q.identifier ?? []).some((i) => sameIdentifier(i, identifier)));
  if (!found) {
    throw httpError(404, 'not-found', 'No Questionnaire known to this server has that identifier');
  }
  return found;
}

function sameIdentifier(a: Identifier, b: Identifier): boolean {
  return a.value === b.value && (b.system === undefined || a.system === b.system);
}

function single(params: OperationInput, name: string): ParametersParameter {
  const [p, ...more] = params.raw(name);
  if (p === undefined || more.length > 0 || typeof p === 'string') {
    throw httpError(400, 'invalid', `Parameter ${name} must be given once`);
  }
  return p;
}

/** `subject`: a Reference (SDC) or a string, to `Patient/{id}`. */
function subjectOf(params: OperationInput): string {
  if (!params.has('subject')) {
    throw httpError(400, 'required', 'Parameter subject (a Reference to the Patient) is required');
  }
  const p = single(params, 'subject');
  const reference = isObject(p.valueReference) ? p.valueReference.reference : (p.valueString ?? p.valueUri);
  const match = typeof reference === 'string' ? PATIENT_REFERENCE.exec(reference) : null;
  if (!match) {
    throw httpError(400, 'invalid', 'Parameter subject must be a Reference of the form Patient/{id}');
  }
  return match[1]!;
}

/** `context` (SDC): repeated, each with parts `name` (patient, user, encounter) and `content`. */
function contextsOf(params: OperationInput): Map<string, Resource | string> {
  const contexts = new Map<string, Resource | string>();
  params.raw('context').forEach((p, i) => {
    const where = `Parameter context[${i}]`;
    if (typeof p === 'string' || !Array.isArray(p.part)) {
      throw httpError(400, 'invalid', `${where} must have parts name and content`);
    }
    const nameParts = p.part.filter((x) => isObject(x) && x.name === 'name');
    const contentParts = p.part.filter((x) => isObject(x) && x.name === 'content');
    if (nameParts.length !== 1 || contentParts.length !== 1 || p.part.length !== 2) {
      throw httpError(400, 'invalid', `${where} must have exactly the parts name and content`);
    }
    const name = nameParts[0]!.valueString ?? nameParts[0]!.valueCode;
    if (typeof name !== 'string' || !CONTEXT_NAMES.has(name)) {
      throw httpError(400, 'invalid', `${where}: name must be one of patient, user, encounter`);
    }
    if (contexts.has(name)) {
      throw httpError(400, 'invalid', `${where}: context ${name} is given more than once`);
    }
    const content = contentParts[0]!;
    if (isObject(content.resource) && typeof content.resource.resourceType === 'string') {
      contexts.set(name, content.resource);
    } else if (isObject(content.valueReference) && typeof content.valueReference.reference === 'string') {
      contexts.set(name, content.valueReference.reference);
    } else {
      throw httpError(400, 'invalid', `${where}: content must be a resource or a Reference`);
    }
  });
  return contexts;
}

function recordOf(params: OperationInput): Bundle | undefined {
  const record = params.resource<Bundle>('record', 'Bundle');
  if (record !== undefined && record.entry !== undefined && !Array.isArray(record.entry)) {
    throw httpError(400, 'structure', 'Parameter record: Bundle.entry must be an array');
  }
  return record;
}

/** The Patient: the `patient` context if given as a resource, else the record's, else a bare one with the id. */
function givenPatient(input: PopulateRequest, found: Patient | undefined): Patient {
  const given = input.contexts.get('patient');
  if (isObject(given)) {
    if (given.resourceType !== 'Patient' || given.id !== input.patientId) {
      throw httpError(400, 'invalid', 'Parameter context patient must be the Patient named by subject');
    }
    return given as Patient;
  }
  if (typeof given === 'string' && given !== `Patient/${input.patientId}`) {
    throw httpError(400, 'invalid', 'Parameter context patient must be the Patient named by subject');
  }
  return found ?? { resourceType: 'Patient', id: input.patientId };
}

function contextResource<T extends Resource>(
  input: PopulateRequest,
  name: 'user' | 'encounter'
): { [k: string]: T } {
  const given = input.contexts.get(name);
  return isObject(given) ? { [name]: given as T } : {};
}

async function upstreamPatient(
  upstream: UpstreamClient,
  input: PopulateRequest,
  call: CallContext
): Promise<Patient | undefined> {
  if (isObject(input.contexts.get('patient'))) {
    return undefined;
  }
  const patient = await upstream.read<Patient>('Patient', input.patientId, call);
  if (!patient) {
    throw httpError(404, 'not-found', `Patient/${input.patientId} is not on the upstream FHIR server`);
  }
  return patient;
}

function findIn(record: Bundle, reference: string): Resource | undefined {
  return (record.entry ?? [])
    .map((e): unknown => (isObject(e) ? e.resource : undefined))
    .find((r): r is Resource => isObject(r) && `${String(r.resourceType)}/${String(r.id)}` === reference);
}

function countAnswered(items: readonly { answer?: unknown[]; item?: unknown[] }[] | undefined): number {
  return (items ?? []).reduce(
    (n, i) => n + (i.answer?.length ? 1 : 0) + countAnswered(i.item as typeof items),
    0
  );
}
