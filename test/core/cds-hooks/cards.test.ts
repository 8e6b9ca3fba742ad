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
        title: 'Retrograde ejaculation is suspected and not evaluated (CDS Hooks patient-view)',
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

const R1_DETAIL_HEAD =
  'Rule R1 (suspect retrograde ejaculation): the record shows a risk factor (prostate or retroperitoneal surgery, diabetic autonomic neuropathy, multiple sclerosis, spinal cord injury or paraplegia, or a current drug that can cause it) together with a recorded ejaculatory complaint or male infertility, and no retrograde ejaculation evaluation is recorded. This is a suspicion, not a diagnosis: the evaluation takes the history and orders the tests (semen analysis, post-ejaculatory urinalysis) that confirm or refute it.';
const R1_DETAIL_TAIL = [
  'Rule R1 (Suspect retrograde ejaculation). RE rule evidence basis: Laboratory practice; Study data.',
  'Sources:\n- Fedder J, et al. Retrograde ejaculation and sexual dysfunction in men with diabetes mellitus: a prospective, controlled study. Andrology. 2013. doi:10.1111/j.2047-2927.2013.00083.x',
];
const R7_DETAIL_HEAD =
  "Rule R7 (drug-induced retrograde ejaculation): the drug ordered is in the module's list of drugs that can cause retrograde ejaculation or ejaculatory failure (alpha-blockers, 5-alpha-reductase inhibitors, antidepressants, antipsychotics, guanethidine), and the record shows retrograde ejaculation, male infertility, or an answer that he wishes to father a child. Where another drug would do, consider it with the patient; silodosin-related retrograde ejaculation is reversible on stopping (product label). Switching tamsulosin to alfuzosin is an expert suggestion, not a guideline statement. No alternative is offered as a suggestion: no code for one is verified.";
const R7_DETAIL_TAIL = [
  'Rule R7 (Drug-induced retrograde ejaculation). RE rule evidence basis: Guideline text; Study data.',
  'Sources:\n- Colpi G, et al. EAU Guidelines on Disorders of Ejaculation. European Association of Urology; 2001 (superseded; stop drugs that interfere with ejaculation where possible).\n- Rapaflo (silodosin) prescribing information: retrograde ejaculation reversible on stopping.',
];

/** The whole R1 card expected for a record, given the evidence line the rule must write for it. */
function r1Card(evidence: string): CdsResponse {
  return {
    cards: [
      {
        uuid: expect.any(String) as unknown as string,
        summary: 'Retrograde ejaculation is suspected: evaluate it',
        detail: [R1_DETAIL_HEAD, evidence, ...R1_DETAIL_TAIL].join('\n\n'),
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
  };
}

/** The whole R7 card expected for an order, given the evidence line. */
function r7Card(evidence: string): CdsResponse {
  return {
    cards: [
      {
        uuid: expect.any(String) as unknown as string,
        summary:
          'This drug can cause retrograde ejaculation, and the record shows RE or a wish to father a child',
        detail: [R7_DETAIL_HEAD, evidence, ...R7_DETAIL_TAIL].join('\n\n'),
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
    ],
  };
}

type PatientViewExtra = { procedures?: Resource[]; medications?: Resource[]; evaluations?: Resource[] };

// Each record: the risk factor and the finding that make the rule hold, and the evidence line the card
// must carry. The negative case of each record is the same record without its finding.
const PATIENT_VIEW_RECORDS: [string, Resource[], Resource[], PatientViewExtra, string][] = [
  [
    'type 2 diabetes with autonomic neuropathy, anejaculation',
    [RECORD.t2dmNeuropathy],
    [RECORD.anejaculation],
    {},
    'Risk factors in the record: Condition/dm (Type 2 diabetes mellitus with diabetic autonomic (poly)neuropathy). Findings: Condition/anej (Anejaculatory orgasm).',
  ],
  [
    'multiple sclerosis, male infertility',
    [RECORD.ms],
    [RECORD.infertility],
    {},
    'Risk factors in the record: Condition/ms (Multiple sclerosis). Findings: Condition/inf (Male infertility).',
  ],
  [
    'complete paraplegia, retrograde ejaculation coded',
    [RECORD.paraplegia],
    [RECORD.re],
    {},
    'Risk factors in the record: Condition/para (Paraplegia, complete). Findings: Condition/re (Retrograde ejaculation).',
  ],
  [
    'TURP, anejaculation',
    [],
    [RECORD.anejaculation],
    { procedures: [RECORD.turp] },
    'Risk factors in the record: Procedure/turp (Transurethral prostatectomy). Findings: Condition/anej (Anejaculatory orgasm).',
  ],
  [
    'tamsulosin, male infertility',
    [],
    [RECORD.infertility],
    { medications: [RECORD.tamsulosinActive] },
    'Risk factors in the record: MedicationRequest/tam (tamsulosin). Findings: Condition/inf (Male infertility).',
  ],
];

describe('patient-view: RE suspected and not evaluated (R1)', () => {
  test.each(PATIENT_VIEW_RECORDS)('%s: the whole card', (_name, risks, findings, extra, evidence) => {
    expect(patientView([...risks, ...findings], extra)).toEqual(r1Card(evidence));
  });

  test.each(PATIENT_VIEW_RECORDS)('%s, without the finding: no card', (_name, risks, _findings, extra) => {
    expect(patientView(risks, extra)).toEqual({ cards: [] });
  });

  test.each(PATIENT_VIEW_RECORDS)('%s, already evaluated: no card', (_name, risks, findings, extra) => {
    expect(patientView([...risks, ...findings], { ...extra, evaluations: [evaluation('qr1')] })).toEqual({
      cards: [],
    });
  });

  test.each([
    ['a complaint alone', [RECORD.anejaculation], {}],
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

  test('an evaluation still in progress does not count as one', () => {
    const inProgress = { ...evaluation('qr1'), status: 'in-progress' } as Resource;
    expect(patientView([RECORD.ms, RECORD.infertility], { evaluations: [inProgress] }).cards).toHaveLength(1);
  });
});

// Each record: why the drug matters for this man, and the evidence line. Negative: the same record
// with a drug that is not in the list, and the same order with the reason taken away.
const ORDER_SIGN_RECORDS: [string, Resource[], Resource[], string][] = [
  ['retrograde ejaculation', [RECORD.re], [], 'Condition/re (Retrograde ejaculation)'],
  ['male infertility', [RECORD.infertility], [], 'Condition/inf (Male infertility)'],
  [
    'the wish to father a child, answered in a stored evaluation',
    [],
    [evaluation('qr9', true)],
    'QuestionnaireResponse/qr9 (wish to father a child: yes)',
  ],
];

describe('order-sign: a risk drug for a man with RE or a fertility wish (R7)', () => {
  test.each(ORDER_SIGN_RECORDS)(
    'sertraline, %s: the whole card',
    (_name, conditions, evaluations, evidence) => {
      expect(orderSign([RECORD.sertralineDraft], conditions, evaluations)).toEqual(
        r7Card(`Ordered: MedicationRequest/ser (sertraline). In the record: ${evidence}.`)
      );
    }
  );

  test.each(ORDER_SIGN_RECORDS)(
    'imipramine (not in the list), %s: no card',
    (_name, conditions, evaluations) => {
      expect(orderSign([RECORD.imipramineDraft], conditions, evaluations)).toEqual({ cards: [] });
    }
  );

  test('sertraline with no reason in the record (diabetic neuropathy only): no card', () => {
    expect(orderSign([RECORD.sertralineDraft], [RECORD.t2dmNeuropathy], [])).toEqual({ cards: [] });
  });

  test.each([
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

  test('two reasons and two risk drugs: one card naming all of them', () => {
    const tamsulosinDraft = { ...RECORD.tamsulosinActive, id: 'tam2', status: 'draft' } as Resource;
    expect(orderSign([RECORD.sertralineDraft, tamsulosinDraft], [RECORD.re, RECORD.infertility])).toEqual(
      r7Card(
        'Ordered: MedicationRequest/ser (sertraline); MedicationRequest/tam2 (tamsulosin). In the record: Condition/re (Retrograde ejaculation); Condition/inf (Male infertility).'
      )
    );
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
