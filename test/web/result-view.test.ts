import { MantineProvider } from '@mantine/core';
import type {
  Bundle,
  Condition,
  OperationOutcome,
  Questionnaire,
  QuestionnaireResponse,
  RequestGroup,
} from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import type { ResultView } from '../../src/web/result-view';
import {
  bundleToView,
  formatAnswer,
  NO_EVIDENCE_LABEL,
  outcomeLines,
  parseLocation,
  statusHeadline,
  STRATEGY_TITLES,
} from '../../src/web/result-view';
import { OutcomeAlert, ResultPanel } from '../../src/web/ResultPanel';

const ROOT = join(__dirname, '../..');
const questionnaire: Questionnaire = readJson('profiles/Questionnaire-re-evaluation.json');
const EXAMPLES = ['anejaculation', 'diabetic-confirmed', 'distress-pe', 'turp-tamsulosin'];

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as T;
}

function scenario(name: string): { bundle: Bundle; response: QuestionnaireResponse } {
  return {
    bundle: readJson(`test/fixtures/scenarios/example-${name}/expected-bundle.json`),
    response: readJson(`profiles/examples/QuestionnaireResponse-re-example-${name}.json`),
  };
}

function resourcesOf<T>(bundle: Bundle, type: string): T[] {
  return (bundle.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === type) as T[];
}

describe('bundleToView', () => {
  test.each(EXAMPLES)(
    'shows every Condition of example %s with its codes, status, rule and one line per evidence code',
    (name) => {
      const { bundle, response } = scenario(name);
      const view = bundleToView(bundle, response, questionnaire);
      const conditions = resourcesOf<Condition>(bundle, 'Condition');
      expect(view.conditions).toHaveLength(conditions.length);
      conditions.forEach((condition, i) => {
        const shown = view.conditions[i]!;
        expect(shown.codes.map((c) => c.code)).toEqual(condition.code?.coding?.map((c) => c.code));
        expect(shown.verificationStatus).toBe(condition.verificationStatus?.coding?.[0]?.code);
        expect(shown.rule?.code).toBe(condition.extension?.[0]?.valueCoding?.code);
        const evidenceCodes = (condition.evidence ?? []).flatMap((ev) => ev.code ?? []);
        expect(shown.evidence).toHaveLength(evidenceCodes.length);
        for (const evidence of shown.evidence) {
          expect(evidence.answers.length).toBeGreaterThan(0);
        }
      });
    }
  );

  test('puts the answers that caused a Condition next to their questions, including laboratory values and drugs', () => {
    const diabetic = scenario('diabetic-confirmed');
    const re = bundleToView(diabetic.bundle, diabetic.response, questionnaire).conditions.find((c) =>
      c.codes.some((x) => x.code === 'N53.14')
    );
    expect(re?.verificationStatus).toBe('confirmed');
    expect(re?.evidence).toContainEqual({
      label: 'Semen volume (0 if no antegrade ejaculate)',
      linkId: 'semen-volume',
      answers: ['0.3 mL'],
    });
    expect(re?.evidence).toContainEqual({
      label: 'Does orgasm produce no ejaculate, or very little (a dry or low-volume orgasm)?',
      linkId: 'dry-orgasm',
      answers: ['Yes'],
    });
    const turp = scenario('turp-tamsulosin');
    const suspected = bundleToView(turp.bundle, turp.response, questionnaire).conditions[0];
    expect(suspected?.evidence).toContainEqual({
      label: 'Medication',
      linkId: 'medication',
      answers: ['tamsulosin (G04CA02)'],
    });
  });

  test.each(EXAMPLES)(
    'groups the care plan of example %s into the three strategies, each recommendation with its rule, evidence basis and activities',
    (name) => {
      const { bundle, response } = scenario(name);
      const view = bundleToView(bundle, response, questionnaire);
      expect(view.strategies.map((s) => s.title)).toEqual([...STRATEGY_TITLES]);
      const group = resourcesOf<RequestGroup>(bundle, 'RequestGroup')[0]!;
      for (const strategy of view.strategies) {
        const source = group.action?.find((a) => a.title === strategy.title);
        expect(strategy.recommendations.map((r) => r.title)).toEqual(
          (source?.action ?? []).map((a) => a.title)
        );
        strategy.recommendations.forEach((rec, i) => {
          const action = source!.action![i]!;
          const rule = action.extension?.find((e) => e.url.endsWith('/re-rule'))?.valueCoding?.code;
          const basis = (action.extension ?? [])
            .filter((e) => e.url.endsWith('/re-evidence-basis'))
            .map((e) => e.valueCoding?.code);
          expect(rec.rule?.code).toBe(rule);
          expect(rec.evidence.map((e) => e.code)).toEqual(basis);
          expect(rec.activities.length).toBeGreaterThan(0);
          for (const activity of rec.activities) {
            expect(activity.kind).toMatch(/^(ServiceRequest|MedicationRequest|CommunicationRequest|Task)/);
          }
        });
      }
      expect(view.provenance?.agents.map((a) => a.role)).toEqual(['Assembler', 'Author']);
      expect(view.provenance?.targets).toBe(bundle.entry!.length - 1);
    }
  );

  test('labels a recommendation without an evidence basis "optional, unverified", and names the choice of a drug option', () => {
    const { bundle, response } = scenario('diabetic-confirmed');
    const treatment = bundleToView(bundle, response, questionnaire).strategies.find(
      (s) => s.title === 'Treatment options'
    );
    const pelvic = treatment?.recommendations.find((r) => r.rule?.code === 'R12');
    expect(pelvic?.evidenceLabel).toBe(NO_EVIDENCE_LABEL);
    expect(pelvic?.evidence).toEqual([]);
    const trial = treatment?.recommendations.find((r) => r.rule?.code === 'R9');
    expect(trial?.evidenceLabel).toBe('G Guideline text');
    const ephedrine = trial?.activities.find((a) => a.title.startsWith('Ephedrine'));
    expect(ephedrine).toEqual(
      expect.objectContaining({
        kind: 'MedicationRequest (option)',
        choice: 'Sympathomimetic (choose at most one)',
      })
    );
  });

  test('copes with a Bundle that has nothing in it, and keeps a strategy it does not know after the three', () => {
    const empty = bundleToView(
      { resourceType: 'Bundle', type: 'transaction' },
      { resourceType: 'QuestionnaireResponse', status: 'completed' },
      questionnaire
    );
    expect(empty.conditions).toEqual([]);
    expect(empty.strategies.map((s) => [s.title, s.recommendations.length])).toEqual(
      STRATEGY_TITLES.map((t) => [t, 0])
    );
    expect(empty.provenance).toBeUndefined();
    const other: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: {
            resourceType: 'RequestGroup',
            status: 'draft',
            intent: 'proposal',
            action: [
              { title: 'Something else', action: [{ title: 'An action', action: [{ title: 'Leaf' }] }] },
            ],
          },
        },
      ],
    };
    const view = bundleToView(
      other,
      { resourceType: 'QuestionnaireResponse', status: 'completed' },
      questionnaire
    );
    expect(view.strategies.map((s) => s.title)).toEqual([...STRATEGY_TITLES, 'Something else']);
    expect(view.strategies[3]?.recommendations[0]?.activities).toEqual([{ title: 'Leaf' }]);
  });
});

/**
 * The transaction-response an upstream server gives for a transaction Bundle (upstream mode): one
 * entry per request with its status and location, in order; with `withResources`, the written
 * resources too, with their new ids and the references between them rewritten to `Type/id` (what
 * Medplum answers; HAPI by default answers without them).
 */
function transactionResponse(transaction: Bundle, withResources: boolean): Bundle {
  const ids = new Map<string, string>();
  (transaction.entry ?? []).forEach((e, i) => {
    ids.set(e.fullUrl!, `${e.resource!.resourceType}/srv-${i}`);
  });
  let text = JSON.stringify(transaction.entry ?? []);
  for (const [fullUrl, ref] of ids) {
    text = text.split(fullUrl).join(ref);
  }
  const entries = JSON.parse(text) as NonNullable<Bundle['entry']>;
  return {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: entries.map((e, i) => ({
      response: {
        status: i % 2 ? '200 OK' : '201 Created',
        location: `${e.resource!.resourceType}/srv-${i}/_history/1`,
      },
      ...(withResources ? { resource: { ...e.resource!, id: `srv-${i}` } } : {}),
    })),
  };
}

describe('bundleToView of a transaction-response (upstream mode)', () => {
  const { bundle, response } = scenario('diabetic-confirmed');
  const types = bundle.entry!.map((e) => e.resource!.resourceType);

  test('lists every written resource by location and status, and shows no Condition it was not given', () => {
    const view = bundleToView(transactionResponse(bundle, false), response, questionnaire);
    expect(view.written).toHaveLength(bundle.entry!.length);
    expect(view.written?.map((w) => w.resourceType)).toEqual(types);
    expect(view.written?.[0]).toEqual({
      resourceType: types[0],
      id: 'srv-0',
      version: '1',
      location: `${types[0]}/srv-0/_history/1`,
      status: '201 Created',
      returned: false,
    });
    expect(view.conditions).toEqual([]);
    expect(view.provenance).toBeUndefined();
  });

  test('shows the returned resources as it shows the transaction, references resolved by Type/id', () => {
    const fromTransaction = bundleToView(bundle, response, questionnaire);
    const view = bundleToView(transactionResponse(bundle, true), response, questionnaire);
    expect(view.conditions).toEqual(fromTransaction.conditions);
    expect(view.strategies).toEqual(fromTransaction.strategies);
    expect(view.carePlanTitle).toBe(fromTransaction.carePlanTitle);
    expect(view.provenance).toEqual(fromTransaction.provenance);
    expect(view.written?.every((w) => w.returned)).toBe(true);
    // A resource returned without its id is known by its location.
    const withoutIds = transactionResponse(bundle, true);
    for (const entry of withoutIds.entry ?? []) {
      delete entry.resource!.id;
    }
    expect(bundleToView(withoutIds, response, questionnaire).strategies).toEqual(fromTransaction.strategies);
  });

  test('an empty transaction-response wrote nothing; a transaction Bundle has no written list', () => {
    expect(
      bundleToView({ resourceType: 'Bundle', type: 'transaction-response' }, response, questionnaire).written
    ).toEqual([]);
    expect(bundleToView(bundle, response, questionnaire).written).toBeUndefined();
  });

  test('parseLocation reads relative and absolute locations, with or without a version', () => {
    expect(parseLocation('Condition/123/_history/4')).toEqual({
      resourceType: 'Condition',
      id: '123',
      version: '4',
    });
    expect(parseLocation('https://ehr.example/fhir/CarePlan/a-b.c')).toEqual({
      resourceType: 'CarePlan',
      id: 'a-b.c',
    });
    expect(parseLocation('https://ehr.example/fhir/Task/9/_history/2?x=1#y')).toEqual({
      resourceType: 'Task',
      id: '9',
      version: '2',
    });
    expect(parseLocation('')).toBeUndefined();
    expect(parseLocation('123')).toBeUndefined();
    expect(parseLocation('Condition/<b>')).toBeUndefined();
  });
});

describe('formatAnswer', () => {
  test('writes booleans as Yes/No, codings as display (code), numbers with the unit of their question', () => {
    const volume = {
      linkId: 'v',
      type: 'decimal' as const,
      extension: [
        { url: 'http://hl7.org/fhir/StructureDefinition/questionnaire-unit', valueCoding: { code: 'mL' } },
      ],
    };
    expect(formatAnswer({ valueBoolean: true })).toBe('Yes');
    expect(formatAnswer({ valueBoolean: false })).toBe('No');
    expect(formatAnswer({ valueCoding: { code: 'c', display: 'Dee' } })).toBe('Dee (c)');
    expect(formatAnswer({ valueCoding: { code: 'c' } })).toBe('c');
    expect(formatAnswer({ valueDecimal: 0 }, volume)).toBe('0 mL');
    expect(formatAnswer({ valueInteger: 7 })).toBe('7');
    expect(formatAnswer({ valueDate: '2024-01-02' })).toBe('2024-01-02');
  });
});

describe('outcomeLines and statusHeadline', () => {
  test('reads each issue from its details text, else diagnostics, else code, with where it points', () => {
    const outcome: OperationOutcome = {
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'error',
          code: 'required',
          details: { text: 'Text' },
          diagnostics: 'diag',
          expression: ['A.b', 'A.c'],
        },
        { severity: 'warning', code: 'value', diagnostics: 'Diagnostics' },
        { severity: 'error', code: 'exception' },
      ],
    };
    expect(outcomeLines(outcome)).toEqual([
      { severity: 'error', text: 'Text', where: 'A.b, A.c' },
      { severity: 'warning', text: 'Diagnostics' },
      { severity: 'error', text: 'exception' },
    ]);
  });

  test('says what each failure status means', () => {
    expect(statusHeadline(400)).toContain('400');
    expect(statusHeadline(404)).toContain('does not know the Questionnaire');
    expect(statusHeadline(422)).toContain('does not meet the Questionnaire');
    expect(statusHeadline(500)).toContain('failed');
    expect(statusHeadline(401)).toContain('refused');
  });
});

describe('ResultPanel and OutcomeAlert', () => {
  const hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>';

  function render(element: Parameters<typeof renderToStaticMarkup>[0]): string {
    return renderToStaticMarkup(createElement(MantineProvider, null, element));
  }

  test('render text from the server as text: markup in it is escaped, never interpreted', () => {
    const view: ResultView = {
      conditions: [
        {
          title: hostile,
          codes: [{ system: 's', systemLabel: 's', code: hostile, display: hostile }],
          verificationStatus: 'provisional',
          verificationDisplay: hostile,
          evidence: [{ label: hostile, answers: [hostile] }],
        },
      ],
      strategies: [
        {
          title: 'Tests to order',
          recommendations: [
            {
              title: hostile,
              evidence: [],
              evidenceLabel: hostile,
              activities: [{ title: hostile, kind: hostile }],
            },
          ],
        },
      ],
      provenance: { agents: [{ role: hostile, who: hostile }], sources: [hostile], targets: 1 },
      counts: {},
    };
    const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: hostile }] };
    const html = render(createElement(ResultPanel, { view, bundle }));
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
    const alert = render(
      createElement(OutcomeAlert, {
        headline: hostile,
        lines: [{ severity: 'error', text: hostile, where: hostile }],
      })
    );
    expect(alert).not.toContain('<img');
    expect(alert).not.toContain('<script');
    expect(alert).toContain('role="alert"');
  });

  test('show each example result with its Conditions, the three strategies and the raw Bundle panel closed', () => {
    const { bundle, response } = scenario('diabetic-confirmed');
    const html = render(
      createElement(ResultPanel, { view: bundleToView(bundle, response, questionnaire), bundle })
    );
    expect(html.match(/data-testid="condition"/g)).toHaveLength(resourcesOf(bundle, 'Condition').length);
    for (const title of STRATEGY_TITLES) {
      expect(html).toContain(`data-title="${title}"`);
    }
    expect(html).toMatch(/<details data-testid="raw-bundle">/);
    expect(html).not.toMatch(/<details[^>]* open/);
    expect(html).not.toContain('data-testid="written"');
  });

  test('show a transaction-response without resources by what was written where, never as "No Condition was extracted"', () => {
    const { bundle, response } = scenario('diabetic-confirmed');
    const written = transactionResponse(bundle, false);
    const html = render(
      createElement(ResultPanel, { view: bundleToView(written, response, questionnaire), bundle: written })
    );
    const conditions = (bundle.entry ?? []).flatMap((e, i) =>
      e.resource?.resourceType === 'Condition' ? [`Condition/srv-${i}/_history/1`] : []
    );
    expect(conditions).toHaveLength(4);
    for (const location of conditions) {
      expect(html).toContain(
        `data-testid="written-condition" data-type="Condition" data-location="${location}"`
      );
    }
    expect(html).not.toContain('data-testid="no-conditions"');
    expect(html).toMatch(/data-testid="written-careplan" data-type="CarePlan"/);
    expect(html).toMatch(/data-testid="written-careplan" data-type="RequestGroup"/);
    // The plan was written but not returned: no strategy claims that nothing was proposed.
    expect(html).not.toContain('data-testid="strategy"');
    expect(html).not.toContain('Nothing proposed');
    expect(html).toMatch(/data-testid="written-provenance" data-type="Provenance"/);
    expect(html).not.toContain('The Bundle has no Provenance');
    expect(html).toContain(`${bundle.entry!.length} resources`);
    expect(html.match(/data-testid="written-entry"/g)).toHaveLength(bundle.entry!.length);
  });

  test('show a transaction-response with resources as the transaction, plus where they were written', () => {
    const { bundle, response } = scenario('diabetic-confirmed');
    const written = transactionResponse(bundle, true);
    const html = render(
      createElement(ResultPanel, { view: bundleToView(written, response, questionnaire), bundle: written })
    );
    expect(html.match(/data-testid="condition"/g)).toHaveLength(resourcesOf(bundle, 'Condition').length);
    expect(html.match(/data-testid="recommendation"/g)?.length).toBeGreaterThan(0);
    expect(html).not.toContain('data-testid="written-condition"');
    expect(html).toContain('data-testid="written"');
  });

  test('show an empty transaction-response as nothing written', () => {
    const { response } = scenario('diabetic-confirmed');
    const empty: Bundle = { resourceType: 'Bundle', type: 'transaction-response' };
    const html = render(
      createElement(ResultPanel, { view: bundleToView(empty, response, questionnaire), bundle: empty })
    );
    expect(html).toContain('data-testid="nothing-written"');
    expect(html).toContain('data-testid="no-conditions"');
  });
});
