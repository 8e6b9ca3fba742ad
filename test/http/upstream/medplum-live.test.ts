import type { Bundle, Patient, QuestionnaireResponse } from '@medplum/fhirtypes';
import type { TestServer } from '../../helpers/http';
import { post, startServer } from '../../helpers/http';
import { scenarios } from '../../helpers/scenarios';

/**
 * Opt-in: upstream mode against a real Medplum server. Set MEDPLUM_BASE_URL (e.g. http://localhost:8103/),
 * MEDPLUM_CLIENT_ID and MEDPLUM_CLIENT_SECRET (a ClientApplication of a project with the content uploaded by
 * `npm run deploy:content`, and the scopes of docs/upstream.md). Without them the tests are skipped and say so.
 */

const BASE = process.env.MEDPLUM_BASE_URL?.replace(/\/+$/, '');
const CLIENT_ID = process.env.MEDPLUM_CLIENT_ID;
const CLIENT_SECRET = process.env.MEDPLUM_CLIENT_SECRET;
const LIVE = Boolean(BASE && CLIENT_ID && CLIENT_SECRET);
if (!LIVE) {
  console.info(
    'medplum-live: skipped, set MEDPLUM_BASE_URL, MEDPLUM_CLIENT_ID and MEDPLUM_CLIENT_SECRET to run against a real Medplum server'
  );
}

async function token(): Promise<string> {
  const res = await fetch(`${BASE}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID!,
      client_secret: CLIENT_SECRET!,
    }),
  });
  const json = (await res.json()) as { access_token?: string };
  if (!json.access_token) {
    throw new Error(`Medplum token request failed (HTTP ${res.status})`);
  }
  return json.access_token;
}

(LIVE ? describe : describe.skip)('upstream mode against a real Medplum server (opt-in)', () => {
  let server: TestServer;
  let bearer: string;
  const fhir = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${BASE}/fhir/R4/${path}`, {
      ...init,
      headers: {
        'content-type': 'application/fhir+json',
        authorization: `Bearer ${bearer}`,
        ...init.headers,
      },
    });

  beforeAll(async () => {
    bearer = await token();
    server = await startServer({ upstream: { url: `${BASE}/fhir/R4`, token: bearer, timeoutMs: 30_000 } });
  }, 60_000);
  afterAll(() => server?.close());

  test('a stored response is written completely, and a resubmission writes the same resources again', async () => {
    const patient = (await (
      await fhir('Patient', { method: 'POST', body: JSON.stringify({ resourceType: 'Patient' } as Patient) })
    ).json()) as Patient;
    const example = scenarios().find((s) => s.name === 'example-turp-tamsulosin')!
      .response as QuestionnaireResponse;
    const draft: QuestionnaireResponse = {
      ...structuredClone(example),
      id: undefined,
      subject: { reference: `Patient/${patient.id}` },
      // Medplum does not resolve a canonical with a |version suffix.
      questionnaire: example.questionnaire?.split('|')[0],
    };
    const stored = (await (
      await fhir('QuestionnaireResponse', { method: 'POST', body: JSON.stringify(draft) })
    ).json()) as QuestionnaireResponse;

    const first = await post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, stored);
    expect(first.status).toBe(200);
    expect(first.body.entry!.every((e) => e.response?.status?.startsWith('2'))).toBe(true);
    const again = await post<Bundle>(`${server.base}/QuestionnaireResponse/$re-evaluate`, stored);
    expect(again.status).toBe(200);
    const where = (b: Bundle): string[] =>
      b.entry!.map((e) => (e.response?.location ?? '').split('/_history')[0]!);
    expect(where(again.body)).toEqual(where(first.body));
  }, 120_000);
});
