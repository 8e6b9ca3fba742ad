import type { Bundle, OperationOutcome, QuestionnaireResponse } from '@medplum/fhirtypes';

/** The FHIR JSON media type, sent and accepted on every request. */
export const FHIR_JSON = 'application/fhir+json';

/** What `$re-evaluate` answered. */
export type EvaluateResult =
  | { readonly kind: 'bundle'; readonly status: number; readonly bundle: Bundle }
  | { readonly kind: 'outcome'; readonly status: number; readonly outcome: OperationOutcome }
  | { readonly kind: 'error'; readonly status?: number; readonly message: string };

/**
 * The FHIR base the page talks to: `fhir/` next to the page, unless the page's
 * `<meta name="re-fhir-base">` says otherwise (relative to the page, or absolute).
 * @param documentUrl - The page's URL (`document.baseURI`).
 * @param configured - The meta element's content, if any.
 * @returns An absolute URL ending in `/`.
 */
export function fhirBaseUrl(documentUrl: string, configured?: string | null): string {
  const url = new URL(configured?.trim() || 'fhir/', documentUrl);
  url.search = '';
  url.hash = '';
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/**
 * What `$re-evaluate` does with its result on the server that serves the page: returns it without
 * storing it (`none`), writes it to the upstream FHIR server the server is configured with
 * (`upstream`), or not known (the page was not served by our server).
 */
export type StorageMode = 'none' | 'upstream' | 'unknown';

/**
 * Reads the page's `<meta name="re-fhir-storage">`, which the server fills in.
 * @param configured - The meta element's content, if any.
 */
export function storageMode(configured?: string | null): StorageMode {
  const value = configured?.trim();
  return value === 'none' || value === 'upstream' ? value : 'unknown';
}

/**
 * The sentence the page shows about what happens to a submission.
 * @param mode - The storage mode.
 */
export function storageNote(mode: StorageMode): string {
  switch (mode) {
    case 'none':
      return 'A demonstration page: nothing is stored here.';
    case 'upstream':
      return (
        'Submitting writes the results (Observations, Conditions, the care plan and its Provenance) to ' +
        'the FHIR server this service is connected to; the page itself keeps nothing.'
      );
    default:
      return 'A demonstration page: whether the results are stored depends on how this server is configured.';
  }
}

/**
 * POSTs a completed QuestionnaireResponse to `QuestionnaireResponse/$re-evaluate` and sorts the
 * answer into a Bundle, an OperationOutcome (with its HTTP status) or a transport error.
 * @param base - The FHIR base (from fhirBaseUrl).
 * @param response - The QuestionnaireResponse.
 * @param fetchImpl - The fetch to use (the browser's by default).
 * @param token - In SMART mode, the user's access token (sent as a bearer token).
 */
export async function evaluate(
  base: string,
  response: QuestionnaireResponse,
  fetchImpl: typeof fetch = fetch,
  token?: string
): Promise<EvaluateResult> {
  let res: Response;
  try {
    res = await fetchImpl(new URL('QuestionnaireResponse/$re-evaluate', base).href, {
      method: 'POST',
      headers: {
        'Content-Type': FHIR_JSON,
        Accept: FHIR_JSON,
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(response),
    });
  } catch (err) {
    return { kind: 'error', message: `The server could not be reached: ${errorText(err)}` };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return {
      kind: 'error',
      status: res.status,
      message: `The server answered ${res.status} without FHIR JSON.`,
    };
  }
  const resourceType = (body as { resourceType?: unknown } | null)?.resourceType;
  if (res.ok && resourceType === 'Bundle') {
    return { kind: 'bundle', status: res.status, bundle: body as Bundle };
  }
  if (resourceType === 'OperationOutcome') {
    return { kind: 'outcome', status: res.status, outcome: body as OperationOutcome };
  }
  return {
    kind: 'error',
    status: res.status,
    message: `The server answered ${res.status} with an unexpected body.`,
  };
}

/**
 * A fresh logical id for a response: a random (version 4) UUID, from `crypto.getRandomValues`, which
 * unlike `crypto.randomUUID` also exists on pages served over plain http from another host.
 * See: https://www.rfc-editor.org/rfc/rfc9562#name-uuid-version-4
 * @param random - Fills a byte array with random values.
 */
export function newResponseId(
  random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)
): string {
  const bytes = random(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
