import type { Parameters, QuestionnaireResponse, Reference } from '@medplum/fhirtypes';
import { FHIR_JSON } from './api';

/**
 * SMART App Launch helpers of the page (docs/smart-launch.md): the scopes to request, the page's
 * settings, the `$populate` call and the user's reference. The launch itself is fhirclient's.
 */

/** The path of the SMART redirect URI, relative to the launch page: the clinician page in SMART mode. */
export const SMART_REDIRECT_PATH = 'smart';

/** What the server told the launch page (its `<meta>` elements). */
export interface SmartSettings {
  readonly clientId: string;
  readonly scope: string;
  /** The EHR FHIR base our server reads and writes: the only `iss` a launch may name (empty: not known). */
  readonly iss: string;
}

/**
 * Reads the launch page's settings; undefined when the server has no SMART client id configured.
 * @param clientId - The `re-fhir-smart-client-id` meta content.
 * @param scope - The `re-fhir-smart-scope` meta content.
 * @param iss - The `re-fhir-smart-iss` meta content.
 */
export function smartSettings(
  clientId?: string | null,
  scope?: string | null,
  iss?: string | null
): SmartSettings | undefined {
  const id = clientId?.trim();
  return id ? { clientId: id, scope: scope?.trim() ?? '', iss: iss?.trim() ?? '' } : undefined;
}

/**
 * True when a launch's `iss` is the FHIR server our server writes to (trailing slashes aside). Another one
 * would get the response stored where our server never reads, and our server would act on another EHR.
 * @param iss - The launch's `iss`.
 * @param expected - The server's upstream FHIR base.
 */
export function sameFhirBase(iss: string, expected: string): boolean {
  const trim = (u: string): string => u.trim().replace(/\/+$/, '');
  return trim(iss) !== '' && trim(iss) === trim(expected);
}

/**
 * The scopes for this launch. An EHR launch (`launch` in the URL) carries its context with the `launch`
 * scope; a standalone launch asks the authorization server to choose a patient with `launch/patient`.
 * @param scope - The configured scopes.
 * @param ehrLaunch - True when the URL has a `launch` parameter.
 */
export function launchScope(scope: string, ehrLaunch: boolean): string {
  const scopes = scope.split(/\s+/).filter((s) => s !== '');
  const wanted = ehrLaunch ? 'launch' : 'launch/patient';
  const rest = scopes.filter((s) => s !== 'launch' && s !== 'launch/patient');
  return [wanted, ...rest].join(' ');
}

/**
 * The user's reference from the `fhirUser` claim (`Practitioner/123` or an absolute URL ending so), when
 * it names a practitioner; undefined otherwise (a patient or related person filling the form is not the
 * clinician the page is for).
 * @param fhirUser - The claim, if any.
 */
export function practitionerFromFhirUser(fhirUser: string | null | undefined): Reference | undefined {
  const match = /(?:^|\/)((?:Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64})$/.exec(fhirUser ?? '');
  return match ? { reference: match[1] } : undefined;
}

/** What `$populate` answered. */
export type PopulateResult =
  | { readonly kind: 'response'; readonly response: QuestionnaireResponse }
  | { readonly kind: 'error'; readonly status?: number; readonly message: string };

/**
 * Calls `Questionnaire/$populate` on our server for the launch's patient, with the user's token (the
 * server reads the record from the EHR with it), and returns the pre-filled response.
 * @param base - Our FHIR base (ends with `/`).
 * @param token - The user's access token.
 * @param questionnaire - The canonical URL (with `|version`) of the Questionnaire.
 * @param patientId - The launch's patient id.
 * @param fetchImpl - fetch (the browser's by default).
 */
export async function populate(
  base: string,
  token: string,
  questionnaire: string,
  patientId: string,
  fetchImpl: typeof fetch = fetch
): Promise<PopulateResult> {
  const body: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'canonical', valueUri: questionnaire },
      { name: 'subject', valueReference: { reference: `Patient/${patientId}` } },
    ],
  };
  let res: Response;
  try {
    res = await fetchImpl(new URL('Questionnaire/$populate', base).href, {
      method: 'POST',
      headers: { 'Content-Type': FHIR_JSON, Accept: FHIR_JSON, Authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  } catch (err) {
    return { kind: 'error', message: `The server could not be reached: ${String(err)}` };
  }
  const json = (await res.json().catch(() => undefined)) as
    | { resourceType?: string; parameter?: { name?: string; resource?: unknown }[] }
    | { resourceType: 'OperationOutcome'; issue?: { diagnostics?: string; details?: { text?: string } }[] }
    | undefined;
  if (res.ok && json?.resourceType === 'Parameters' && 'parameter' in json) {
    const response = json.parameter?.find((p) => p.name === 'response')?.resource as
      QuestionnaireResponse | undefined;
    if (response?.resourceType === 'QuestionnaireResponse') {
      return { kind: 'response', response };
    }
  }
  if (res.ok && json?.resourceType === 'QuestionnaireResponse') {
    return { kind: 'response', response: json as QuestionnaireResponse };
  }
  const issues =
    json?.resourceType === 'OperationOutcome' && 'issue' in json
      ? (json.issue ?? []).map((i) => i.details?.text ?? i.diagnostics).filter(Boolean)
      : [];
  return {
    kind: 'error',
    status: res.status,
    message: `Pre-filling from the record failed (HTTP ${res.status})${issues.length > 0 ? `: ${issues.join('; ')}` : ''}`,
  };
}

/**
 * How many answers a response holds, in nested items too (the pre-filled ones, for the review note).
 * @param response - A QuestionnaireResponse.
 */
export function answerCount(response: QuestionnaireResponse | undefined): number {
  type Item = NonNullable<QuestionnaireResponse['item']>[number];
  const count = (items: readonly Item[] | undefined): number =>
    (items ?? []).reduce(
      (n, item) =>
        n +
        (item.answer?.length ?? 0) +
        count(item.item) +
        (item.answer ?? []).reduce((m, a) => m + count(a.item), 0),
      0
    );
  return count(response?.item);
}
