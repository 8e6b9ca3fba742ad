import type { PlanDefinition, Resource } from '@medplum/fhirtypes';
import { cdsCards, checkCdsRequest, hookDefinitions, recordBundle } from '../../../src/core/cds-hooks';
import type { CdsRequest, CdsResponse } from '../../../src/core/cds-hooks';
import { testEngine } from '../../helpers/engine';
import { evaluation, PATIENT, RECORD, responseSchemaErrors, searchset } from '../../helpers/cds-hooks';

const deps = testEngine();
const hooks = hookDefinitions(deps.registry);
const LAUNCH = 'https://re.example.org/launch.html';

function run(
  id: string,
  prefetch: Record<string, Resource | null>,
  context: Record<string, unknown> = {}
): CdsResponse {
  const hook = hooks.find((h) => h.service.id === id)!;
  const request: CdsRequest = checkCdsRequest(
    {
      hook: hook.service.hook,
      hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
      context: { userId: 'Practitioner/dr1', patientId: PATIENT, ...context },
      prefetch,
    },
    hook.service
  );
  const record = recordBundle(hook.planDefinition as PlanDefinition, request, {}, deps);
  const response = cdsCards(hook.planDefinition, request, record, deps, { launchUrl: LAUNCH });
  expect(responseSchemaErrors(response)).toEqual([]);
  return response;
}

function patientView(
  conditions: Resource[],
  extra: { procedures?: Resource[]; medications?: Resource[]; evaluations?: Resource[] } = {}
): CdsResponse {
  return run('re-cds-patient-view', {
    conditions: searchset(conditions),
    procedures: searchset(extra.procedures ?? []),
    medications: searchset(extra.medications ?? []),
    evaluations: searchset(extra.evaluations ?? []),
  });
}

function orderSign(draft: Resource[], conditions: Resource[], evaluations: Resource[] = []): CdsResponse {
  return run(
    're-cds-order-sign',
    { conditions: searchset(conditions), evaluations: searchset(evaluations) },
    { draftOrders: searchset(draft) }
  );
}

describe('discovery from the PlanDefinitions', () => {
  test('two services, each with the prefetch templates of its trigger data', () => {
    expect(hooks.map((h) => h.service)).toEqual([
      {
        hook: 'order-sign',
        id: 're-cds-order-sign',
        title:
          'A drug that can cause retrograde ejaculation ordered for a man with RE or a fertility wish (CDS Hooks order-sign)',
        description: expect.stringContaining('Rule R7 for CDS Hooks order-sign'),
        prefetch: {
          conditions: 'Condition?patient=Patient/{{context.patientId}}',
          evaluations: 'QuestionnaireResponse?patient=Patient/{{context.patientId}}',
        },
      },
      {
        hook: 'patient-view',
        id: 're-cds-patient-view',
        title: 'Retrograde ejaculation is likely and not evaluated (CDS Hooks patient-view)',
        description: expect.stringContaining('Rule R1 for CDS Hooks patient-view'),
        prefetch: {
          conditions: 'Condition?patient=Patient/{{context.patientId}}',
          procedures: 'Procedure?patient=Patient/{{context.patientId}}',
          medications: 'MedicationRequest?patient=Patient/{{context.patientId}}',
          evaluations: 'QuestionnaireResponse?patient=Patient/{{context.patientId}}',
        },
      },
    ]);
  });
});

describe('patient-view: RE likely and not evaluated (R1)', () => {
  test('diabetic autonomic neuropathy with anejaculation: one info card, whole', () => {
    expect(patientView([RECORD.t2dmNeuropathy, RECORD.anejaculation])).toEqual({
      cards: [
        {
          uuid: expect.any(String),
          summary: 'Retrograde ejaculation is likely: evaluate it',
          detail: [
            expect.stringContaining('Rule R1 (suspect retrograde ejaculation)') as unknown as string,
          ][0],
          indicator: 'info',
          source: {
            label: 're-fhir',
            topic: {
              system: 'http://re-fhir.org/fhir/CodeSystem/re-rule',
              code: 'R1',
              display: 'Suspect retrograde ejaculation',
            },
          },
          links: [
            {
              label:
                'LabCorp 133116: post-ejaculatory urine examination for sperm (suspect RE when semen volume is below 1 mL)',
              url: 'https://zh.labcorp.com/tests/133116/postejaculatory-urine-microscopic-examination-for-sperm',
              type: 'absolute',
            },
            {
              label: 'Open Retrograde ejaculation evaluation',
              url: LAUNCH,
              type: 'smart',
              appContext: '{"questionnaire":"http://re-fhir.org/fhir/Questionnaire/re-evaluation|0.1.0"}',
            },
          ],
        },
      ],
    });
  });

  test('the detail names the record entries, the rule and its evidence basis from the CodeSystem', () => {
    const [card] = patientView([RECORD.t2dmNeuropathy, RECORD.anejaculation]).cards;
    expect(card!.detail!.split('\n\n').slice(1)).toEqual([
      'Risk factors in the record: Condition/dm (Type 2 diabetes mellitus with diabetic autonomic (poly)neuropathy). Findings: Condition/anej (Anejaculatory orgasm).',
      'Rule R1 (Suspect retrograde ejaculation). RE rule evidence basis: Laboratory practice; Study data.',
      'Sources:\n- Fedder J, et al. Retrograde ejaculation and sexual dysfunction in men with diabetes mellitus: a prospective, controlled study. Andrology. 2013. doi:10.1111/j.2047-2927.2013.00083.x',
    ]);
  });

  test.each([
    ['multiple sclerosis + male infertility', [RECORD.ms, RECORD.infertility], {}],
    ['paraplegia + retrograde ejaculation coded', [RECORD.paraplegia, RECORD.re], {}],
    ['TURP + anejaculation', [RECORD.anejaculation], { procedures: [RECORD.turp] }],
    ['tamsulosin + male infertility', [RECORD.infertility], { medications: [RECORD.tamsulosinActive] }],
  ])('%s: a card', (_name, conditions, extra) => {
    const { cards } = patientView(conditions, extra);
    expect(cards.map((c) => c.source.topic?.code)).toEqual(['R1']);
  });

  test.each([
    ['a risk factor alone', [RECORD.t2dmNeuropathy], {}],
    ['a complaint alone', [RECORD.anejaculation], {}],
    [
      'an evaluation already recorded',
      [RECORD.t2dmNeuropathy, RECORD.anejaculation],
      { evaluations: [evaluation('qr1')] },
    ],
    [
      'a refuted risk factor',
      [
        {
          ...RECORD.ms,
          verificationStatus: {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'refuted' },
            ],
          },
        },
        RECORD.infertility,
      ],
      {},
    ],
    [
      'a drug that is no longer active',
      [RECORD.infertility],
      { medications: [{ ...RECORD.tamsulosinActive, status: 'stopped' }] },
    ],
    ['an empty record', [], {}],
  ])('%s: no card', (_name, conditions, extra) => {
    expect(patientView(conditions as Resource[], extra as never)).toEqual({ cards: [] });
  });
});

describe('order-sign: a risk drug for a man with RE or a fertility wish (R7)', () => {
  test('sertraline for a man with RE: one warning card naming the order and the diagnosis', () => {
    const { cards } = orderSign([RECORD.sertralineDraft], [RECORD.re]);
    expect(cards).toEqual([
      {
        uuid: expect.any(String),
        summary:
          'This drug can cause retrograde ejaculation, and the record shows RE or a wish to father a child',
        detail: expect.stringContaining(
          'Ordered: MedicationRequest/ser (sertraline). In the record: Condition/re (Retrograde ejaculation).\n\nRule R7 (Drug-induced retrograde ejaculation). RE rule evidence basis: Guideline text; Study data.'
        ),
        indicator: 'warning',
        source: {
          label: 're-fhir',
          topic: {
            system: 'http://re-fhir.org/fhir/CodeSystem/re-rule',
            code: 'R7',
            display: 'Drug-induced retrograde ejaculation',
          },
        },
      },
    ]);
  });

  test('the wish to father a child, answered in a stored evaluation, is a reason', () => {
    const { cards } = orderSign([RECORD.sertralineDraft], [], [evaluation('qr9', true)]);
    expect(cards[0]!.detail).toContain(
      'In the record: QuestionnaireResponse/qr9 (wish to father a child: yes).'
    );
  });

  test('male infertility is a reason', () => {
    expect(
      orderSign(
        [
          {
            ...RECORD.sertralineDraft,
            medicationCodeableConcept: {
              coding: [{ system: 'http://www.whocc.no/atc', code: 'G04CA02', display: 'tamsulosin' }],
            },
          },
        ],
        [RECORD.infertility]
      ).cards
    ).toHaveLength(1);
  });

  test.each([
    ['a drug not in the list (imipramine)', [RECORD.imipramineDraft], [RECORD.re], []],
    ['no RE, no infertility, no wish', [RECORD.sertralineDraft], [RECORD.t2dmNeuropathy], []],
    ['the wish answered no', [RECORD.sertralineDraft], [], [evaluation('qr9', false)]],
    ['an active (not draft) order', [{ ...RECORD.sertralineDraft, status: 'active' }], [RECORD.re], []],
    [
      'RE resolved',
      [RECORD.sertralineDraft],
      [
        {
          ...RECORD.re,
          clinicalStatus: {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' },
            ],
          },
        },
      ],
      [],
    ],
  ])('%s: no card', (_name, draft, conditions, evaluations) => {
    expect(orderSign(draft as Resource[], conditions as Resource[], evaluations as Resource[])).toEqual({
      cards: [],
    });
  });
});

describe('bad input', () => {
  const service = hooks[1]!.service;
  test.each([
    ['not an object', 42, '(body) must be object'],
    ['no context', { hook: 'patient-view', hookInstance: 'x' }, '(body) is missing context'],
    [
      'no patientId',
      { hook: 'patient-view', hookInstance: 'x', context: {} },
      'context is missing patientId',
    ],
    [
      'a patientId that is not an id',
      { hook: 'patient-view', hookInstance: 'x', context: { patientId: 'a/b?c' } },
      'context.patientId must match pattern',
    ],
    [
      'fhirAuthorization without fhirServer',
      {
        hook: 'patient-view',
        hookInstance: 'x',
        context: { patientId: 'p' },
        fhirAuthorization: {
          access_token: 't',
          token_type: 'Bearer',
          expires_in: 1,
          scope: 's',
          subject: 'c',
        },
      },
      '(body) needs fhirServer as well',
    ],
    [
      'a prefetch value that is not a resource',
      { hook: 'patient-view', hookInstance: 'x', context: { patientId: 'p' }, prefetch: { a: [1] } },
      'prefetch.a must be',
    ],
    [
      'the wrong hook',
      { hook: 'order-sign', hookInstance: 'x', context: { patientId: 'p' } },
      'Service re-cds-patient-view answers the hook "patient-view", not "order-sign"',
    ],
  ])('%s → structural error', (_name, body, text) => {
    expect(() => checkCdsRequest(body, service)).toThrow(expect.objectContaining({ kind: 'structural' }));
    try {
      checkCdsRequest(body, service);
    } catch (err) {
      const texts = (err as { outcome: { issue: { details: { text: string } }[] } }).outcome.issue.map(
        (i) => i.details.text
      );
      expect(texts.some((t) => t.startsWith(text))).toBe(true);
    }
  });

  test('a prefetched resource that is not valid FHIR is refused with its location', () => {
    const hook = hooks[1]!;
    const request = checkCdsRequest(
      {
        hook: 'patient-view',
        hookInstance: 'x',
        context: { patientId: 'p' },
        prefetch: { conditions: searchset([{ resourceType: 'Condition', subject: 'Patient/p' } as never]) },
      },
      hook.service
    );
    expect(() => recordBundle(hook.planDefinition, request, {}, deps)).toThrow(
      /prefetch\.conditions\.entry\[0\]\.resource is not valid FHIR R4/
    );
  });
});
