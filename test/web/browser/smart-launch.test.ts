import type {
  Bundle,
  Condition,
  Questionnaire,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Resource,
} from '@medplum/fhirtypes';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { KEY_SYSTEM } from '../../../src/core/constants';
import { SMART_DEFAULT_SCOPE } from '../../../src/http/auth/forward';
import { describeWithBrowser, launchBrowser } from '../../helpers/browser';
import type { TestServer } from '../../helpers/http';
import { startServer } from '../../helpers/http';
import type { MedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import type { LaunchContext, SmartLauncher } from '../../helpers/smart-launcher';
import { startSmartLauncher } from '../../helpers/smart-launcher';
import { populateScenarios } from '../../helpers/populate';
import { fillAnswers, fillContext } from '../../helpers/web-form';

// SMART App Launch of the clinician page in headless Chromium (docs/smart-launch.md): the EHR is the
// Medplum FHIR stand-in behind the SMART authorization stand-in (test/helpers/smart-launcher.ts); our
// server verifies the EHR's tokens with its JWKS and forwards them to the EHR (FHIR_UPSTREAM_FORWARD_TOKEN).
// Every origin is 127.0.0.1 (a secure context, which Web Crypto and so PKCE need), on three ports.

const ROOT = join(__dirname, '../../..');
const CLIENT_ID = 're-fhir-clinician-page';
const SCENARIO = 'diabetic-confirmed';
const questionnaire: Questionnaire = readJson('profiles/Questionnaire-re-evaluation.json');
const response: QuestionnaireResponse = readJson(
  `profiles/examples/QuestionnaireResponse-re-example-${SCENARIO}.json`
);
const expected: Bundle = readJson(`test/fixtures/scenarios/example-${SCENARIO}/expected-bundle.json`);
const USER = response.author!.reference!;
// The EHR's record of the patient: a golden $populate scenario (test/fixtures/populate), whose diabetes,
// neuropathy, HbA1c and glucose are the answers the scenario above gives.
const record = populateScenarios().find((s) => s.name === 'diabetic-neuropathy')!;
const PATIENT_ID = record.patient.id!;
const RECORD: Resource[] = record.record.entry!.map((e) => e.resource!);
/** The questions $populate answers from that record; the test answers every other one. */
const PREFILLED = ['diabetes', 'diabetes-type', 'diabetic-autonomic-neuropathy', 'hba1c', 'glucose'];

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as T;
}

/** The response without the answers to the given questions (at any depth). */
function without(qr: QuestionnaireResponse, linkIds: readonly string[]): QuestionnaireResponse {
  const keep = (items: readonly QuestionnaireResponseItem[] | undefined): QuestionnaireResponseItem[] =>
    (items ?? [])
      .filter((i) => !linkIds.includes(i.linkId))
      .map((i) => (i.item ? { ...i, item: keep(i.item) } : i));
  return { ...qr, item: keep(qr.item) };
}

/** `system|code` of every coding of a Condition's code, sorted. */
function codes(conditions: readonly Condition[]): string[] {
  return conditions.flatMap((c) => (c.code?.coding ?? []).map((x) => `${x.system}|${x.code}`)).sort();
}

describeWithBrowser('clinician page, SMART App Launch from an EHR (headless Chromium)', () => {
  let webRoot: string;
  let launcher: SmartLauncher & { redirectUri: string };
  let fixture: MedplumTestFhirServer;
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    webRoot = mkdtempSync(join(tmpdir(), 're-fhir-web-'));
    execFileSync(process.execPath, [join(ROOT, 'src/tools/build-web.mjs'), '--outdir', webRoot], {
      stdio: 'pipe',
    });
    launcher = await startSmartLauncher({ clientId: CLIENT_ID });
    browser = await launchBrowser();
  }, 120_000);

  beforeEach(async () => {
    // A fresh EHR for each test: what one test writes cannot satisfy another's assertions.
    fixture = await startMedplumTestFhirServer({
      transactions: false,
      resources: RECORD,
      before: (app) => launcher.install(app),
    });
    launcher.fhirBase = fixture.url;
    launcher.standalonePatient = PATIENT_ID;
    server = await startServer({
      webRoot,
      auth: {
        issuer: launcher.issuer,
        audience: fixture.url,
        jwksUrl: launcher.jwksUrl,
        tokenUrl: launcher.tokenUrl,
      },
      upstream: { url: fixture.url, forwardUserToken: true, retries: 0, timeoutMs: 60_000 },
      smartLaunch: { clientId: CLIENT_ID },
    });
    launcher.redirectUri = `${server.origin}/smart`;
  }, 60_000);

  afterEach(async () => {
    await server?.close();
    await fixture?.close();
  });

  afterAll(async () => {
    await browser?.close();
    await launcher?.close();
    rmSync(webRoot, { recursive: true, force: true });
  });

  /** Opens the launch URL as the EHR would, and waits for the page to settle on the form or an error. */
  async function launch(
    context?: LaunchContext
  ): Promise<{ page: Page; errors: string[]; ourCalls: string[]; populated: Promise<unknown> }> {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    // What $populate answered the page, if it was called (page.close() ends the wait otherwise).
    const populated = page
      .waitForResponse((r) => r.url() === `${server.base}/Questionnaire/$populate`, { timeout: 0 })
      .then((r) => r.json() as Promise<unknown>)
      .catch(() => undefined);
    const errors: string[] = [];
    const ourCalls: string[] = [];
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      const url = r.url();
      if (url.startsWith(`${server.base}/`)) {
        ourCalls.push(`${r.method()} ${url.slice(server.base.length + 1)}`);
      } else if (
        ![server.origin, launcher.issuer, new URL(fixture.url).origin].some((o) => url.startsWith(o))
      ) {
        errors.push(`request to another host: ${url}`);
      }
    });
    const query = new URLSearchParams({ iss: fixture.url });
    if (context) {
      query.set('launch', launcher.launch(context));
    }
    await page.goto(`${server.origin}/launch.html?${query}`);
    await page.locator('label[for="dry-orgasm-option-0"], [data-testid="smart-error"]').first().waitFor();
    return { page, errors, ourCalls, populated };
  }

  /** The Conditions our server wrote to the EHR (keyed by its extraction identifiers), beside the record's. */
  async function writtenConditions(): Promise<Condition[]> {
    const all = (await fixture.search(`Condition?subject=Patient/${PATIENT_ID}`)) as Condition[];
    return all.filter((c) => (c.identifier ?? []).some((i) => i.system === KEY_SYSTEM));
  }

  /** Answers the scenario's questions and submits; returns the `$re-evaluate` status. */
  async function complete(page: Page): Promise<number | undefined> {
    await fillContext(page, response);
    await fillAnswers(page, questionnaire, without(response, PREFILLED));
    const [request] = await Promise.all([
      page.waitForRequest(
        (r) => r.url().endsWith('/QuestionnaireResponse/$re-evaluate') && r.method() === 'POST'
      ),
      page.getByRole('button', { name: 'Evaluate' }).click(),
    ]);
    const status = (await request.response())?.status();
    await page.locator('[data-testid="result"], [data-testid="outcome"]').first().waitFor();
    return status;
  }

  test("EHR launch → populate → review → submit: the Bundle is written to the EHR's FHIR server with the user's token", async () => {
    const issuedBefore = launcher.issued.length;
    const { page, errors, ourCalls, populated } = await launch({ patient: PATIENT_ID, fhirUser: USER });
    expect(launcher.issued.length).toBe(issuedBefore + 1);
    const token = launcher.issued.at(-1)!;
    expect(token.patient).toBe(PATIENT_ID);
    expect(token.scope.split(' ').sort()).toEqual(SMART_DEFAULT_SCOPE.split(' ').sort());
    // The launch's patient and user, fixed by the launch.
    await expect(page.locator('#patient-ref').inputValue()).resolves.toBe(`Patient/${PATIENT_ID}`);
    await expect(page.locator('#patient-ref').getAttribute('readonly')).resolves.not.toBeNull();
    await expect(page.locator('#practitioner-ref').inputValue()).resolves.toBe(USER);
    // Pre-filled from the EHR's record, read with the user's token: the scenario's golden $populate output.
    expect(ourCalls).toContain('POST Questionnaire/$populate');
    await expect(populated).resolves.toEqual(record.expected);
    await expect(page.getByTestId('prefill-note').innerText()).resolves.toContain(
      `${PREFILLED.length} answers were taken from the record`
    );
    await expect(page.locator('#diabetes-option-0').isChecked()).resolves.toBe(true);
    await expect(page.locator('#diabetic-autonomic-neuropathy-option-0').isChecked()).resolves.toBe(true);
    await expect(page.locator('input[name="hba1c"]').inputValue()).resolves.toBe('8.1');

    const status = await complete(page);
    expect(status).toBe(200);
    await page.getByTestId('result').waitFor();

    // The EHR saw only the user's token: for the page's own calls and for our server's.
    expect(fixture.requests.length).toBeGreaterThan(2);
    expect(new Set(fixture.requests.map((r) => r.authorization))).toEqual(
      new Set([`Bearer ${token.accessToken}`])
    );
    // The page stored the response on the EHR, our server read it back and wrote one transaction there.
    const stored = fixture.requests.filter((r) => r.method === 'POST' && r.path === 'QuestionnaireResponse');
    expect(stored).toHaveLength(1);
    const writes = fixture.requests.filter(
      (r) => r.method === 'POST' && r.path === '' && (r.body as Bundle).type === 'transaction'
    );
    expect(writes).toHaveLength(1);
    const written = (writes[0]!.body as Bundle).entry!.map((e) => e.resource!.resourceType);
    expect(written).toEqual(expected.entry!.map((e) => e.resource!.resourceType));
    // What the EHR now holds for the patient: the golden scenario's Conditions.
    const conditions = await writtenConditions();
    const expectedConditions = expected
      .entry!.map((e) => e.resource!)
      .filter((r) => r.resourceType === 'Condition');
    expect(codes(conditions)).toEqual(codes(expectedConditions as Condition[]));

    // Submitting again updates the stored response (PUT, same id) and rewrites the same results: no
    // second response, no duplicate Condition.
    const storedId = (await fixture.search('QuestionnaireResponse'))[0]!.id;
    const [again] = await Promise.all([
      page.waitForRequest(
        (r) => r.url().endsWith('/QuestionnaireResponse/$re-evaluate') && r.method() === 'POST'
      ),
      page.getByRole('button', { name: 'Evaluate' }).click(),
    ]);
    expect((await again.response())?.status()).toBe(200);
    expect(fixture.requests.filter((r) => r.method === 'PUT').map((r) => r.path)).toContain(
      `QuestionnaireResponse/${storedId}`
    );
    await expect(fixture.search('QuestionnaireResponse')).resolves.toHaveLength(1);
    const after = await writtenConditions();
    expect(after.map((c) => c.id).sort()).toEqual(conditions.map((c) => c.id).sort());
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);

  test('standalone launch: the authorization server picks the patient (launch/patient)', async () => {
    const { page, errors } = await launch();
    const token = launcher.issued.at(-1)!;
    expect(token.scope.split(' ')).toContain('launch/patient');
    expect(token.scope.split(' ')).not.toContain('launch');
    await expect(page.locator('#patient-ref').inputValue()).resolves.toBe(`Patient/${PATIENT_ID}`);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  test('a tampered state is refused: no token is requested and nothing reaches our server or the EHR', async () => {
    const page = await browser.newPage();
    // The authorization server's redirect comes back with another state, as a forged callback would.
    await page.route(`${launcher.issuer}/authorize**`, async (route) => {
      const answer = await route.fetch({ maxRedirects: 0 });
      const location = new URL(answer.headers()['location']!);
      location.searchParams.set('state', 'forged-state');
      await route.fulfill({ status: 302, headers: { location: location.href } });
    });
    const ourCalls: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(`${server.base}/`)) {
        ourCalls.push(r.url());
      }
    });
    const issuedBefore = launcher.issued.length;
    const query = new URLSearchParams({ iss: fixture.url, launch: launcher.launch({ patient: PATIENT_ID }) });
    await page.goto(`${server.origin}/launch.html?${query}`);
    const error = page.getByTestId('smart-error');
    await error.waitFor();
    await expect(error.innerText()).resolves.toContain('The SMART launch failed');
    expect(launcher.issued.length).toBe(issuedBefore);
    expect(ourCalls).toEqual([]);
    expect(fixture.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    await page.close();
  }, 120_000);

  test('a token without the write scopes: our server refuses the submission (403) and nothing is written to the EHR', async () => {
    const readOnly = SMART_DEFAULT_SCOPE.split(' ').map((s) => s.replace(/\.cruds$/, '.rs'));
    const { page, errors } = await launch({ patient: PATIENT_ID, fhirUser: USER, grant: readOnly });
    const status = await complete(page);
    expect(status).toBe(403);
    await expect(page.getByTestId('outcome').innerText()).resolves.toMatch(/lacks the scopes.*Condition\.c/s);
    // The page stored the response (its token may), but our server wrote nothing.
    expect(fixture.requests.filter((r) => r.method === 'POST').map((r) => r.path)).toEqual([
      'QuestionnaireResponse',
    ]);
    // The EHR's Conditions are still only those of the record.
    const held = await fixture.search(`Condition?subject=Patient/${PATIENT_ID}`);
    expect(held.map((c) => c.id).sort()).toEqual(
      RECORD.filter((r) => r.resourceType === 'Condition')
        .map((r) => r.id)
        .sort()
    );
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  test("a launch from another EHR than this server's upstream is refused before any authorization", async () => {
    const page = await browser.newPage();
    const other = 'http://127.0.0.1:9/fhir';
    const query = new URLSearchParams({ iss: other, launch: launcher.launch({ patient: PATIENT_ID }) });
    await page.goto(`${server.origin}/launch.html?${query}`);
    const status = page.locator('#launch-status[data-failed="true"]');
    await status.waitFor();
    await expect(status.innerText()).resolves.toBe(
      `This server works with the EHR FHIR server ${fixture.url}, not ${other}.`
    );
    expect(launcher.refused).toEqual([]);
    await page.close();
  }, 120_000);

  test('a launch without a patient: the page says so, and neither populates nor offers the form', async () => {
    const { page, ourCalls, errors } = await launch({ fhirUser: USER });
    const error = page.getByTestId('smart-error');
    await expect(error.innerText()).resolves.toContain('without a patient');
    expect(ourCalls).toEqual([]);
    await expect(page.locator('form').count()).resolves.toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
