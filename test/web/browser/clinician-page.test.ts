import type {
  Bundle,
  CarePlan,
  Condition,
  Extension,
  Questionnaire,
  Parameters as FhirParameters,
  QuestionnaireResponse,
  RequestGroup,
  RequestGroupAction,
  Resource,
  ValueSet,
} from '@medplum/fhirtypes';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page, Request } from 'playwright-core';
import { describeWithBrowser, launchBrowser } from '../../helpers/browser';
import type { TestServer } from '../../helpers/http';
import { startServer } from '../../helpers/http';
import type { MedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { startMedplumTestFhirServer } from '../../helpers/medplum-test-fhir-server';
import { isHidden } from '../../../src/web/render-questionnaire';
import { clinicalAnswers, fillAnswers, fillContext } from '../../helpers/web-form';

// End to end in headless Chromium: the real server (createApp on a real port, startServer) serves the page built
// by src/tools/build-web.mjs; the tests fill the form by clicking and typing, submit, and read what
// the page shows. See test/helpers/browser.ts for how the browser is found (and skipped, loudly).

const ROOT = join(__dirname, '../../..');
const SCREENSHOTS = join(ROOT, 'test-results/web');
const EXAMPLES = ['anejaculation', 'diabetic-confirmed', 'distress-pe', 'turp-tamsulosin'] as const;
const STRATEGIES = ['Tests to order', 'Treatment options', 'Referrals and counselling'];
const RULE_URL = 'http://re-fhir.org/fhir/StructureDefinition/re-rule';
const EVIDENCE_URL = 'http://re-fhir.org/fhir/StructureDefinition/re-evidence-basis';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';

const questionnaire: Questionnaire = readJson('profiles/Questionnaire-re-evaluation.json');

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as T;
}

function example(name: string): QuestionnaireResponse {
  return readJson(`profiles/examples/QuestionnaireResponse-re-example-${name}.json`);
}

function golden(name: string): Bundle {
  return readJson(`test/fixtures/scenarios/example-${name}/expected-bundle.json`);
}

// ---- What the golden Bundle says the page must show -------------------------------------------

interface ShownCondition {
  code: string;
  status: string;
  evidence: number;
}

interface ShownRecommendation {
  title: string;
  rule: string;
  evidence: string;
  activities: string[];
}

function expectedConditions(bundle: Bundle): ShownCondition[] {
  return (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is Condition => r?.resourceType === 'Condition')
    .map((c) => ({
      code: (c.code?.coding?.find((x) => x.system === ICD10CM) ?? c.code?.coding?.[0])?.code ?? '',
      status: c.verificationStatus?.coding?.[0]?.code ?? '',
      evidence: (c.evidence ?? []).reduce((n, ev) => n + (ev.code?.length ?? 0), 0),
    }))
    .sort(byJson);
}

function codings(extensions: Extension[] | undefined, url: string): { code?: string; display?: string }[] {
  return (extensions ?? []).filter((e) => e.url === url).map((e) => e.valueCoding ?? {});
}

function leafTitles(action: RequestGroupAction): string[] {
  return action.action?.length ? action.action.flatMap(leafTitles) : [action.title ?? ''];
}

function expectedStrategies(bundle: Bundle): Record<string, ShownRecommendation[]> {
  const resources = (bundle.entry ?? []).map((e) => e.resource);
  const carePlan = resources.find((r): r is CarePlan => r?.resourceType === 'CarePlan');
  expect(carePlan).toBeDefined();
  const group = resources.find((r): r is RequestGroup => r?.resourceType === 'RequestGroup');
  const out: Record<string, ShownRecommendation[]> = {};
  for (const title of STRATEGIES) {
    const strategy = group?.action?.find((a) => a.title === title);
    out[title] = (strategy?.action ?? []).map((a) => {
      const evidence = codings(a.extension, EVIDENCE_URL);
      return {
        title: a.title ?? '',
        rule: codings(a.extension, RULE_URL)[0]?.code ?? '',
        evidence: evidence.length
          ? evidence.map((c) => `${c.code} ${c.display}`).join('; ')
          : 'optional, unverified',
        activities: leafTitles(a),
      };
    });
  }
  return out;
}

// ---- What the page shows -----------------------------------------------------------------------

async function shownConditions(page: Page): Promise<ShownCondition[]> {
  const cards = page.getByTestId('condition');
  const out: ShownCondition[] = [];
  for (const card of await cards.all()) {
    const codes: { code: string; text: string }[] = [];
    for (const code of await card.getByTestId('code').all()) {
      codes.push({ code: (await code.getAttribute('data-code')) ?? '', text: await code.innerText() });
    }
    out.push({
      code: (codes.find((c) => c.text.startsWith('ICD-10-CM')) ?? codes[0])?.code ?? '',
      status: (await card.getByTestId('verification').getAttribute('data-code')) ?? '',
      evidence: await card.getByTestId('evidence-item').count(),
    });
  }
  return out.sort(byJson);
}

async function shownStrategies(page: Page): Promise<Record<string, ShownRecommendation[]>> {
  const out: Record<string, ShownRecommendation[]> = {};
  for (const title of STRATEGIES) {
    const section = page.locator(`[data-testid="strategy"][data-title="${title}"]`);
    await expect(section.count()).resolves.toBe(1);
    out[title] = [];
    for (const rec of await section.getByTestId('recommendation').all()) {
      out[title].push({
        title: (await rec.getByTestId('recommendation-title').innerText()).trim(),
        rule: (await rec.getByTestId('rule').getAttribute('data-code')) ?? '',
        evidence: (await rec.getByTestId('evidence-grade').innerText()).trim(),
        activities: (await rec.getByTestId('activity-title').allInnerTexts()).map((t) => t.trim()),
      });
    }
  }
  return out;
}

function byJson(a: unknown, b: unknown): number {
  return JSON.stringify(a).localeCompare(JSON.stringify(b));
}

// ---- Accessibility -------------------------------------------------------------------------------

/**
 * The violations of impact serious or critical that axe-core (injected by openPage's `axe` option)
 * finds in the page, or in the part `selector` selects, each as "rule (impact): targets", so that a
 * failure names its rules. All of axe's rules run: none is disabled and no element is excluded, since
 * every violation found came from markup the page makes or mends (src/web/form-a11y.ts).
 */
async function seriousViolations(page: Page, selector?: string): Promise<string[]> {
  const context = selector ? JSON.stringify({ include: [selector] }) : 'document';
  return (await page.evaluate(
    `axe.run(${context}, { resultTypes: ['violations'] }).then((result) => result.violations` +
      '.filter((v) => v.impact === "serious" || v.impact === "critical")' +
      '.map((v) => v.id + " (" + v.impact + "): " + v.nodes.map((n) => n.target.join(" ")).join(", ")))'
  )) as string[];
}

/** The page's headings in document order, as "h2 Care plan". */
async function headings(page: Page): Promise<string[]> {
  return (await page.evaluate(
    'Array.from(document.querySelectorAll("h1, h2, h3, h4, h5, h6"))' +
      '.map((h) => h.tagName.toLowerCase() + " " + h.textContent.trim())'
  )) as string[];
}

/** One h1, first, and no heading more than one level below the heading before it. */
function expectHeadingOutline(list: readonly string[]): void {
  const level = (h: string | undefined): number => Number(h?.charAt(1));
  expect(list.filter((h) => level(h) === 1)).toHaveLength(1);
  expect(level(list[0])).toBe(1);
  const skipped = list.filter((h, i) => i > 0 && level(h) > level(list[i - 1]) + 1);
  expect(skipped).toEqual([]);
}

/** The text of a question of the Questionnaire, as the page shows it. */
function questionText(linkId: string): string {
  const find = (items: Questionnaire['item']): string | undefined => {
    for (const item of items ?? []) {
      const text = item.linkId === linkId ? item.text : find(item.item);
      if (text) {
        return text;
      }
    }
    return undefined;
  };
  const text = find(questionnaire.item);
  expect(text).toBeDefined();
  return text!;
}

/**
 * The clinical answers compare exactly, except that a coding chosen from a server expansion may add
 * the code system's version where the example states none; where the example states a version
 * (SNOMED CT edition), it must be the same.
 */
function comparable(response: QuestionnaireResponse, versionsFrom: QuestionnaireResponse): unknown {
  const stated = new Set(
    clinicalAnswers(versionsFrom).flatMap((e) =>
      e.answers.flatMap((a) => {
        const c = (a as { valueCoding?: { version?: string; code?: string } }).valueCoding;
        return c?.version ? [`${e.path}|${c.code}`] : [];
      })
    )
  );
  return clinicalAnswers(response).map((e) => ({
    path: e.path,
    answers: e.answers.map((a) => {
      const c = (a as { valueCoding?: Record<string, unknown> }).valueCoding;
      if (!c || stated.has(`${e.path}|${String(c.code)}`)) {
        return a;
      }
      const withoutVersion = { ...c };
      delete withoutVersion.version;
      return { valueCoding: withoutVersion };
    }),
  }));
}

// ---- The server and the browser ----------------------------------------------------------------

describeWithBrowser('clinician page in headless Chromium', () => {
  let webRoot: string;
  let server: TestServer;
  let baseUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    webRoot = mkdtempSync(join(tmpdir(), 're-fhir-web-'));
    execFileSync(process.execPath, [join(ROOT, 'src/tools/build-web.mjs'), '--outdir', webRoot], {
      stdio: 'pipe',
    });
    server = await startServer({ webRoot });
    baseUrl = server.origin;
    browser = await launchBrowser();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(webRoot, { recursive: true, force: true });
  });

  /**
   * A fresh page at `path`, with the form loaded; every request to $re-evaluate is recorded. With
   * `axe`, axe-core is injected into the page (see seriousViolations); the page's Content Security
   * Policy (script-src 'self') would refuse the injected script, so that page is opened with CSP
   * bypassed, and only that page.
   */
  async function openPage(
    path = '/',
    viewport = { width: 1000, height: 900 },
    options: { axe?: boolean } = {}
  ): Promise<{ page: Page; evaluations: Request[]; errors: string[] }> {
    const page = await browser.newPage({ viewport, bypassCSP: options.axe === true });
    const evaluations: Request[] = [];
    const errors: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/$re-evaluate')) {
        evaluations.push(r);
      }
      if (!r.url().startsWith(baseUrl) && !r.url().startsWith('data:')) {
        errors.push(`request to another host: ${r.url()}`);
      }
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    await page.goto(`${baseUrl}${path}`);
    await page.locator('label[for="dry-orgasm-option-0"]').waitFor();
    // No upstream: the server says so, and the page says that nothing is stored.
    await expect(page.getByTestId('storage-note').getAttribute('data-mode')).resolves.toBe('none');
    await expect(page.getByTestId('storage-note').innerText()).resolves.toContain('nothing is stored here');
    if (options.axe) {
      await page.addScriptTag({ path: require.resolve('axe-core') });
    }
    return { page, evaluations, errors };
  }

  test('renders and evaluates when opened by a host name that is not localhost, over plain HTTP', async () => {
    // The name resolves to 127.0.0.1 inside this browser only: the traffic stays on loopback. Chromium
    // treats localhost as secure and never upgrades it; any other http origin was upgraded to https by
    // a CSP with upgrade-insecure-requests, and the page stayed blank.
    const named = await launchBrowser(['--host-resolver-rules=MAP re-fhir.test 127.0.0.1']);
    try {
      const origin = `http://re-fhir.test:${new URL(baseUrl).port}`;
      const page = await named.newPage();
      const elsewhere: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) {
          elsewhere.push(r.url());
        }
      });
      page.on('pageerror', (e) => elsewhere.push(`page error: ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && elsewhere.push(`console: ${m.text()}`));
      const response = await page.goto(`${origin}/`);
      expect(response?.headers()['content-security-policy']).not.toContain('upgrade-insecure-requests');
      await page.locator('label[for="dry-orgasm-option-0"]').waitFor();
      const scenario = example('turp-tamsulosin');
      await fillContext(page, scenario);
      await fillAnswers(page, questionnaire, scenario);
      expect(elsewhere).toEqual([]);
      const { status } = await submitAndWait(page);
      expect(status).toBe(200);
      await expect(page.getByTestId('result').isVisible()).resolves.toBe(true);
      expect(elsewhere).toEqual([]);
    } finally {
      await named.close();
    }
  });

  async function submitAndWait(page: Page): Promise<{ sent: QuestionnaireResponse; status: number }> {
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.url().includes('/$re-evaluate') && r.method() === 'POST'),
      page.getByRole('button', { name: 'Evaluate' }).click(),
    ]);
    const response = await request.response();
    await page.locator('[data-testid="result"], [data-testid="outcome"]').first().waitFor();
    return { sent: request.postDataJSON() as QuestionnaireResponse, status: response?.status() ?? 0 };
  }

  /**
   * Answers the questions the Questionnaire requires (all No) and a SHIM score: a small valid form.
   * The score gives the engine something to extract (its Observation); a response from which nothing
   * is extracted would still be answered, with an empty transaction Bundle (200).
   */
  async function answerRequiredOnly(page: Page, except: string[] = []): Promise<void> {
    for (const linkId of ['dry-orgasm', 'cloudy-urine', 'fertility-wish', 'diabetes', 'bother']) {
      if (!except.includes(linkId)) {
        await page.locator(`label[for="${linkId}-option-1"]`).click();
      }
    }
    await page.locator('input[name="shim-total"]').pressSequentially('24');
  }

  test.each(EXAMPLES)(
    'example %s: filled by hand, the server gets the same clinical answers and the page shows its Conditions and care plan',
    async (name) => {
      const scenario = example(name);
      const { page, errors } = await openPage(name === 'turp-tamsulosin' ? '/app' : '/');
      await fillContext(page, scenario);
      await fillAnswers(page, questionnaire, scenario);
      const { sent, status } = await submitAndWait(page);
      expect(status).toBe(200);

      expect(comparable(sent, scenario)).toEqual(comparable(scenario, scenario));
      expect(sent.status).toBe('completed');
      expect(sent.subject).toEqual({ reference: scenario.subject?.reference });
      expect(sent.author?.reference).toBe(scenario.author?.reference);
      expect(sent.questionnaire).toBe(`${questionnaire.url}|${questionnaire.version}`);
      expect(sent.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(JSON.stringify(sent)).not.toContain('case-features');

      const expected = golden(name);
      expect(await shownConditions(page)).toEqual(expectedConditions(expected));
      await expect(
        page.getByTestId('evidence-item').filter({ hasText: 'not in the response' }).count()
      ).resolves.toBe(0);
      expect(await shownStrategies(page)).toEqual(expectedStrategies(expected));
      await expect(page.getByTestId('agent').allInnerTexts()).resolves.toContain(
        `Author: ${scenario.author?.display ?? scenario.author?.reference}`
      );

      const raw = page.getByTestId('raw-bundle');
      await expect(raw.locator('pre').isVisible()).resolves.toBe(false);
      await raw.locator('summary').click();
      const shownBundle = JSON.parse(await raw.locator('pre').innerText()) as Bundle;
      expect(shownBundle.resourceType).toBe('Bundle');
      expect(shownBundle.entry?.length).toBe(expected.entry?.length);

      if (name === 'diabetic-confirmed') {
        await raw.locator('summary').click();
        await page.getByTestId('result').screenshot({ path: join(SCREENSHOTS, 'clinician-page-result.png') });
      }
      expect(errors).toEqual([]);
      expect(server.logs.filter((line) => Number(line.level) >= 50)).toEqual([]);
      await page.close();
    },
    90_000
  );

  test('enableWhen: a question appears when its condition holds and disappears when it stops holding', async () => {
    const { page, errors } = await openPage();
    const monthsTrying = page.locator('input[name="months-trying"]');
    const countMethod = page.locator('input[name="peu-count-method"]');
    await expect(monthsTrying.count()).resolves.toBe(0);
    await page.locator('label[for="fertility-wish-option-0"]').click();
    await monthsTrying.waitFor({ state: 'visible' });
    await page.locator('label[for="fertility-wish-option-1"]').click();
    await monthsTrying.waitFor({ state: 'detached' });

    await expect(countMethod.count()).resolves.toBe(0);
    await page.locator('label[for="peu-sperm-seen-option-0"]').click();
    await countMethod.waitFor({ state: 'visible' });
    await page.locator('label[for="peu-sperm-seen-option-1"]').click();
    await countMethod.waitFor({ state: 'detached' });

    // The hidden calculated case features are never shown.
    await expect(page.getByText('Case features').count()).resolves.toBe(0);
    await expect(page.locator('[name^="feature-"]').count()).resolves.toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  test('a required question left empty gives a message and nothing is sent; answering it lets the form through', async () => {
    const { page, evaluations, errors } = await openPage();
    await page.locator('#patient-ref').fill('Patient/validation-1');
    await page.locator('#practitioner-ref').fill('Practitioner/validation-1');
    await answerRequiredOnly(page, ['bother']);
    // A medication entered without saying whether it can be stopped is incomplete too.
    const medication = page.locator('input[name="medication"]');
    await medication.click();
    await medication.pressSequentially('tamsul');
    await page.getByRole('option', { name: 'tamsulosin', exact: true }).click();

    await page.getByRole('button', { name: 'Evaluate' }).click();
    const problems = page.getByTestId('form-problems');
    await problems.waitFor({ state: 'visible' });
    const listed: string[] = [];
    for (const item of await page.getByTestId('form-problem').all()) {
      listed.push((await item.getAttribute('data-linkid')) ?? '');
    }
    expect(listed.sort()).toEqual(['bother', 'medication-stoppable']);
    await expect(problems.innerText()).resolves.toContain(
      'Is the patient bothered or distressed by the ejaculatory symptoms?'
    );
    await page.waitForTimeout(300);
    expect(evaluations).toHaveLength(0);

    await page.locator('label[for="bother-option-1"]').click();
    await page.locator('label[for="medication-stoppable-option-0"]').click();
    const { status } = await submitAndWait(page);
    expect(status).toBe(200);
    expect(evaluations).toHaveLength(1);
    await expect(problems.count()).resolves.toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  test('an OperationOutcome from the server is shown as a clear message', async () => {
    const { page, errors } = await openPage('/', undefined, { axe: true });
    await page.locator('#patient-ref').fill('Patient/outcome-1');
    await page.locator('#practitioner-ref').fill('Practitioner/outcome-1');
    await answerRequiredOnly(page);
    // The answer list lets a user type a free answer; the server refuses a code outside the ValueSet.
    await page.locator('label[for="dry-orgasm-option-0"]').click();
    const onset = page.locator('input[name="symptom-onset-type"]');
    await onset.click();
    await onset.pressSequentially('sometimes');
    await page.getByRole('option', { name: /Create sometimes/ }).click();

    const { status } = await submitAndWait(page);
    expect(status).toBe(422);
    const outcome = page.getByTestId('outcome');
    await expect(outcome.getAttribute('role')).resolves.toBe('alert');
    await expect(outcome.innerText()).resolves.toContain('does not meet the Questionnaire');
    await expect(page.getByTestId('outcome-issue').first().innerText()).resolves.toMatch(
      /symptom-onset-type/
    );
    await expect(page.getByTestId('result').count()).resolves.toBe(0);
    await expect(seriousViolations(page, '[data-testid="outcome"]')).resolves.toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  test('accessibility: axe-core finds no serious or critical violation in the form, the problem list or the result panel', async () => {
    const { page, errors } = await openPage('/', undefined, { axe: true });
    await expect(seriousViolations(page)).resolves.toEqual([]);

    await page.getByRole('button', { name: 'Evaluate' }).click();
    await page.getByTestId('form-problems').waitFor();
    await expect(seriousViolations(page)).resolves.toEqual([]);

    const scenario = example('diabetic-confirmed');
    await fillContext(page, scenario);
    await fillAnswers(page, questionnaire, scenario);
    const { status } = await submitAndWait(page);
    expect(status).toBe(200);
    await page.getByTestId('condition').first().waitFor();
    await expect(seriousViolations(page, '[data-testid="result"]')).resolves.toEqual([]);
    expectHeadingOutline(await headings(page));
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  test('headings: one h1 (the form renderer shows no title of its own) and no skipped level', async () => {
    const { page, errors } = await openPage();
    const list = await headings(page);
    expect(list.slice(0, 4)).toEqual([
      'h1 Retrograde ejaculation evaluation',
      'h2 Patient and author',
      'h2 Questionnaire',
      'h3 Presenting symptoms',
    ]);
    expectHeadingOutline(list);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  test('answer lists and Yes/No questions are named by their question, also when shown later by enableWhen', async () => {
    const { page, errors } = await openPage();
    for (const linkId of ['prior-drug-trial', 'medication']) {
      // count(), not a wait: an unnamed box fails at once.
      const box = page.getByRole('searchbox', { name: questionText(linkId), exact: true });
      await expect(box.count()).resolves.toBe(1);
      await expect(box.getAttribute('name')).resolves.toBe(linkId);
    }
    for (const linkId of ['dry-orgasm', 'bother', 'medication-stoppable']) {
      const group = page.getByRole('radiogroup', { name: questionText(linkId), exact: true });
      await expect(group.locator(`input[name="${linkId}"]`).count()).resolves.toBe(2);
    }
    // The question's label belongs to the search box: clicking it puts the focus there.
    await page.locator('label[for="medication"]').click();
    await expect(page.evaluate('document.activeElement.name')).resolves.toBe('medication');
    await page.keyboard.press('Escape');

    await page.locator('label[for="dry-orgasm-option-0"]').click();
    await page.locator('input[name="symptom-onset-type"]').waitFor();
    const onset = page.getByRole('searchbox', { name: questionText('symptom-onset-type'), exact: true });
    await expect(onset.count()).resolves.toBe(1);
    await expect(onset.getAttribute('name')).resolves.toBe('symptom-onset-type');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  test('every answer of every choice item is listed with no terminology service (ValueSet/$expand blocked)', async () => {
    const { page, errors } = await openPage();
    const expandCalls: string[] = [];
    await page.route('**/ValueSet/$expand**', async (route) => {
      expandCalls.push(route.request().url());
      await route.abort();
    });
    // Show every question with an answer list: the answers that enable them.
    for (const linkId of [
      'dry-orgasm',
      'fertility-wish',
      'diabetes',
      'spinal-cord-injury',
      'peu-sperm-seen',
    ]) {
      await page.locator(`label[for="${linkId}-option-0"]`).click();
    }
    await page.locator('input[name="shim-total"]').pressSequentially('15');
    await page.locator('input[name="semen-volume"]').pressSequentially('1');

    const bound = (items: Questionnaire['item']): { linkId: string; valueSet: string }[] =>
      (items ?? []).flatMap((i) => [
        ...(i.answerValueSet && !isHidden(i) ? [{ linkId: i.linkId, valueSet: i.answerValueSet }] : []),
        ...bound(i.item),
      ]);
    const items = bound(questionnaire.item);
    expect(items.length).toBeGreaterThan(5);
    let shown = 0;
    for (const { linkId, valueSet } of items) {
      const answers = (
        readJson<ValueSet>(`valuesets/ValueSet-${valueSet.split('/').pop()!.split('|')[0]}.json`).expansion
          ?.contains ?? []
      ).map((c) => c.display!);
      expect(answers.length).toBeGreaterThan(1);
      const box = page.locator(`input[name="${linkId}"]`).first();
      for (const display of answers) {
        await box.click();
        await box.fill('');
        await box.pressSequentially(display.slice(0, 12));
        await expect(
          page.getByRole('option', { name: display, exact: true }).waitFor({ timeout: 15_000 })
        ).resolves.toBeUndefined();
        shown++;
        await page.keyboard.press('Escape');
        await box.fill('');
      }
    }
    expect(shown).toBeGreaterThan(40);
    expect(expandCalls).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);

  test('a failed submission: the problem list gets the focus, each of its links leads to the control of its question, and the fields concerned are aria-invalid until answered', async () => {
    const { page, errors } = await openPage();
    await page.locator('label[for="medication-stoppable-option-0"]').click();
    await page.locator('input[name="shim-total"]').fill('99');
    await page.getByRole('button', { name: 'Evaluate' }).click();
    const problems = page.getByTestId('form-problems');
    await problems.waitFor();
    await expect(page.evaluate('document.activeElement.dataset.testid')).resolves.toBe('form-problems');

    const links =
      (await page.evaluate(`Array.from(document.querySelectorAll('[data-testid="form-problem"]')).map((item) => {
      const href = item.querySelector('a').getAttribute('href');
      const target = document.getElementById(href.slice(1));
      const control = target && (target.matches('input, select, textarea') ? target : target.querySelector('input'));
      return {
        linkId: item.dataset.linkid,
        href,
        target: target ? target.getAttribute('role') || target.tagName.toLowerCase() : null,
        control: control ? control.name || control.id : null,
        invalid: target && target.getAttribute('aria-invalid'),
        describedByItem: !!target && (target.getAttribute('aria-describedby') || '').split(' ').includes(item.id),
      };
    })`)) as { linkId: string; href: string; describedByItem: boolean }[];
    const own = ['patient-ref', 'practitioner-ref'];
    const radio = (linkId: string): Record<string, unknown> => ({ linkId, target: 'radiogroup' });
    expect(links).toMatchObject([
      { linkId: 'patient-ref', target: 'input' },
      { linkId: 'practitioner-ref', target: 'input' },
      radio('dry-orgasm'),
      radio('cloudy-urine'),
      radio('fertility-wish'),
      radio('diabetes'),
      { linkId: 'medication', target: 'searchbox' },
      { linkId: 'shim-total', target: 'input' },
      radio('bother'),
    ]);
    for (const link of links) {
      expect(link).toMatchObject({ href: `#${link.linkId}`, control: link.linkId, invalid: 'true' });
      // The page's own fields are described by their own error message, the form's by the list.
      expect(link.describedByItem).toBe(!own.includes(link.linkId));
    }
    await expect(page.locator('#prior-drug-trial').getAttribute('aria-invalid')).resolves.not.toBe('true');

    // Following a link puts the focus on the control.
    const anchors = problems.locator('a');
    for (const [i, link] of links.entries()) {
      await anchors.nth(i).click();
      await expect(page.evaluate('document.activeElement.name || document.activeElement.id')).resolves.toBe(
        link.linkId
      );
      await page.keyboard.press('Escape');
    }

    await page.locator('#patient-ref').fill('Patient/a11y-1');
    await page.locator('#practitioner-ref').fill('Practitioner/a11y-1');
    await answerRequiredOnly(page);
    await page.locator('input[name="shim-total"]').fill('24');
    const medication = page.locator('input[name="medication"]');
    await medication.click();
    await medication.pressSequentially('tamsul');
    await page.getByRole('option', { name: 'tamsulosin', exact: true }).click();
    const { status } = await submitAndWait(page);
    expect(status).toBe(200);
    await expect(problems.count()).resolves.toBe(0);
    await expect(page.locator('[aria-invalid="true"]').count()).resolves.toBe(0);
    await expect(page.locator('[aria-describedby*="form-problem"]').count()).resolves.toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  test('at phone width everything fits the screen, and text from the server is shown as text, not markup', async () => {
    const { page, errors } = await openPage('/', { width: 390, height: 844 });
    // Elements that pass the screen's right edge, or whose content is wider than they are (a
    // container that hides its overflow would not show in the page's scroll width); a text field
    // scrolls its own text. Strings, not functions: this file is compiled without the DOM library.
    const overflowing = (selector: string): Promise<unknown> =>
      page.evaluate(
        `Array.from(document.querySelectorAll(${JSON.stringify(selector)}))` +
          '.filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 ||' +
          ' (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 && !["INPUT", "TEXTAREA"].includes(e.tagName)))' +
          '.map((e) => e.tagName + " " + (e.textContent || "").slice(0, 40))'
      );

    await page.getByRole('button', { name: 'Evaluate' }).click();
    await page.getByTestId('form-problems').waitFor();
    await expect(overflowing('[data-testid="form-problems"] *')).resolves.toEqual([]);

    const scenario = example('diabetic-confirmed');
    const markup = 'Dr <b>Bold</b> <img src=x onerror="window.__xss=1">';
    await fillContext(page, { ...scenario, author: { ...scenario.author, display: markup } });
    await fillAnswers(page, questionnaire, scenario);
    const { status } = await submitAndWait(page);
    expect(status).toBe(200);

    await expect(page.getByTestId('agent').allInnerTexts()).resolves.toContain(`Author: ${markup}`);
    await expect(page.locator('[data-testid="result"] b, [data-testid="result"] img').count()).resolves.toBe(
      0
    );
    await expect(page.evaluate('typeof window.__xss')).resolves.toBe('undefined');
    await page.getByTestId('raw-bundle').locator('summary').click();
    await expect(overflowing('body *')).resolves.toEqual([]);
    const [scrollWidth, innerWidth] = (await page.evaluate(
      '[document.documentElement.scrollWidth, window.innerWidth]'
    )) as number[];
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth!);
    await page.getByTestId('result').screenshot({ path: join(SCREENSHOTS, 'clinician-page-phone.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});

describeWithBrowser(
  'clinician page in headless Chromium, upstream mode (results written to a FHIR server)',
  () => {
    let webRoot: string;
    let fixture: MedplumTestFhirServer;
    let server: TestServer;
    let browser: Browser;
    /** When set, the upstream's answers lose their `resource`s, as a server that answers minimally. */
    let minimal = false;

    beforeAll(async () => {
      webRoot = mkdtempSync(join(tmpdir(), 're-fhir-web-'));
      execFileSync(process.execPath, [join(ROOT, 'src/tools/build-web.mjs'), '--outdir', webRoot], {
        stdio: 'pipe',
      });
      fixture = await startMedplumTestFhirServer({ transactions: false });
      const upstreamFetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
        const res = await fetch(input, init);
        if (!minimal || init?.method !== 'POST' || !res.ok) {
          return res;
        }
        const bundle = (await res.json()) as Bundle;
        for (const entry of bundle.entry ?? []) {
          delete entry.resource;
        }
        return new Response(JSON.stringify(bundle), { status: res.status, headers: res.headers });
      }) as typeof fetch;
      server = await startServer(
        { webRoot, fhirBase: '/api/fhir', upstream: { url: fixture.url, retries: 0 } },
        { upstream: { fetch: upstreamFetch } }
      );
      browser = await launchBrowser();
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      await fixture?.close();
      rmSync(webRoot, { recursive: true, force: true });
    });

    async function submitExample(name: string): Promise<{ page: Page; errors: string[]; expected: Bundle }> {
      const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
      const errors: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(server.origin) && !r.url().startsWith('data:')) {
          errors.push(`request to another host: ${r.url()}`);
        }
      });
      page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
      await page.goto(`${server.origin}/`);
      await page.locator('label[for="dry-orgasm-option-0"]').waitFor();
      const note = page.getByTestId('storage-note');
      await expect(note.getAttribute('data-mode')).resolves.toBe('upstream');
      await expect(page.locator('header').innerText()).resolves.not.toContain('nothing is stored');
      const scenario = example(name);
      await fillContext(page, scenario);
      await fillAnswers(page, questionnaire, scenario);
      // Upstream mode evaluates the response as stored upstream (docs/upstream.md): the EHR's own store
      // holds it before it is evaluated, so the fixture stores what the page sends, then lets it through.
      await page.route('**/QuestionnaireResponse/$re-evaluate', async (route) => {
        const body = route.request().postDataJSON() as Resource | FhirParameters;
        const response =
          body.resourceType === 'Parameters'
            ? body.parameter?.find((p) => p.name === 'questionnaire-response')?.resource
            : body;
        await fixture.repo.updateResource(structuredClone(response as QuestionnaireResponse));
        await route.continue();
      });
      const [request] = await Promise.all([
        page.waitForRequest((r) => r.url().includes('/$re-evaluate') && r.method() === 'POST'),
        page.getByRole('button', { name: 'Evaluate' }).click(),
      ]);
      expect(request.url()).toBe(`${server.base}/QuestionnaireResponse/$re-evaluate`);
      expect((await request.response())?.status()).toBe(200);
      await page.getByTestId('result').waitFor();
      return { page, errors, expected: golden(name) };
    }

    /** One attribute of every element a locator finds. */
    async function attributes(locator: Locator, name: string): Promise<(string | null)[]> {
      const out: (string | null)[] = [];
      for (const element of await locator.all()) {
        out.push(await element.getAttribute(name));
      }
      return out;
    }

    /** The resource behind each location the page lists, read back from the upstream. */
    async function storedAt(locations: (string | null)[]): Promise<string[]> {
      const types: string[] = [];
      for (const location of locations) {
        const [type, id] = (location ?? '').split('/');
        const found = await fixture.read(type!, id!);
        expect(found).toBeDefined();
        types.push(found!.resourceType);
      }
      return types;
    }

    test('the upstream returns what it wrote: the page shows the Conditions and care plan, and where each was written', async () => {
      minimal = false;
      const { page, errors, expected } = await submitExample('diabetic-confirmed');
      expect(await shownConditions(page)).toEqual(expectedConditions(expected));
      expect(await shownStrategies(page)).toEqual(expectedStrategies(expected));
      await expect(page.getByTestId('no-conditions').count()).resolves.toBe(0);
      await expect(page.getByTestId('written-condition').count()).resolves.toBe(0);
      await expect(page.getByTestId('written-summary').innerText()).resolves.toContain(
        `${expected.entry!.length} resources`
      );
      const entries = page.getByTestId('written-entry');
      await expect(entries.count()).resolves.toBe(expected.entry!.length);
      const locations = await attributes(entries, 'data-location');
      expect(await storedAt(locations)).toEqual(expected.entry!.map((e) => e.resource!.resourceType));
      expect(errors).toEqual([]);
      expect(server.logs.filter((line) => Number(line.level) >= 50)).toEqual([]);
      await page.close();
    }, 90_000);

    test('the upstream answers without the resources: the page lists the Conditions and care plan by location, not "No Condition was extracted"', async () => {
      minimal = true;
      const { page, errors, expected } = await submitExample('turp-tamsulosin');
      await expect(page.getByTestId('no-conditions').count()).resolves.toBe(0);
      await expect(page.getByTestId('condition').count()).resolves.toBe(0);
      const conditions = page.getByTestId('written-condition');
      const expectedConditionCount = expected.entry!.filter(
        (e) => e.resource?.resourceType === 'Condition'
      ).length;
      expect(expectedConditionCount).toBeGreaterThan(0);
      await expect(conditions.count()).resolves.toBe(expectedConditionCount);
      const conditionLocations = await attributes(conditions, 'data-location');
      expect(await storedAt(conditionLocations)).toEqual(conditionLocations.map(() => 'Condition'));
      const plan = await attributes(page.getByTestId('written-careplan'), 'data-type');
      expect(plan.sort()).toEqual(['CarePlan', 'RequestGroup']);
      await expect(page.getByTestId('strategy').count()).resolves.toBe(0);
      await expect(page.getByTestId('written-provenance').count()).resolves.toBe(1);
      await expect(page.getByTestId('written-entry').count()).resolves.toBe(expected.entry!.length);
      expect(errors).toEqual([]);
      await page.close();
    }, 90_000);
  }
);
