import type { QuestionnaireResponse, QuestionnaireResponseItem } from '@medplum/fhirtypes';
import fc from 'fast-check';
import answerCodes from '../../valuesets/CodeSystem-re-answer.json';

const BASE = 'http://re-fhir.org/fhir';
const ANSWER = `${BASE}/CodeSystem/re-answer`;
const AUTHOR_EXT = 'http://hl7.org/fhir/StructureDefinition/questionnaireresponse-author';
const SNOMED = {
  system: 'http://snomed.info/sct',
  version: 'http://snomed.info/sct/900000000000207008/version/20220731',
};

const DIABETES_TYPES = [
  { ...SNOMED, code: '46635009', display: 'Type 1 diabetes mellitus' },
  { ...SNOMED, code: '44054006', display: 'Type 2 diabetes mellitus' },
  { ...SNOMED, code: '73211009', display: 'Diabetes mellitus' },
];
const RISK_DRUGS = [
  { code: 'G04CA02', display: 'tamsulosin' },
  { code: 'G04CA04', display: 'silodosin' },
  { code: 'C02CA04', display: 'doxazosin' },
  { code: 'G04CB01', display: 'finasteride' },
  { code: 'N06AB06', display: 'sertraline' },
  { code: 'N06AX16', display: 'venlafaxine' },
  { code: 'N05AX08', display: 'risperidone' },
  { code: 'C02CC02', display: 'guanethidine' },
].map((d) => ({ system: 'http://www.whocc.no/atc', ...d }));
const ANSWER_DISPLAY = new Map(answerCodes.concept?.map((c) => [c.code, c.display]));
/** A re-answer coding with the CodeSystem's own display. */
const code = (c: string): { system: string; code: string; display?: string } => ({
  system: ANSWER,
  code: c,
  display: ANSWER_DISPLAY.get(c),
});

const b = (linkId: string, v: boolean): QuestionnaireResponseItem => ({
  linkId,
  answer: [{ valueBoolean: v }],
});
const int = (linkId: string, v: number): QuestionnaireResponseItem => ({
  linkId,
  answer: [{ valueInteger: v }],
});
const dec = (linkId: string, v: number): QuestionnaireResponseItem => ({
  linkId,
  answer: [{ valueDecimal: v }],
});
const coding = (linkId: string, v: object): QuestionnaireResponseItem => ({
  linkId,
  answer: [{ valueCoding: v }],
});
const present = (items: (QuestionnaireResponseItem | undefined)[]): QuestionnaireResponseItem[] =>
  items.filter((i): i is QuestionnaireResponseItem => i !== undefined);
/** A group with its answered items, or nothing when none is answered (FHIR arrays are never empty). */
const group = (
  linkId: string,
  items: (QuestionnaireResponseItem | undefined)[]
): QuestionnaireResponseItem | undefined =>
  present(items).length > 0 ? { linkId, item: present(items) } : undefined;
const opt = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });

/**
 * Responses that are valid against the RE evaluation Questionnaire: required items answered, items
 * present only when enabled, values within their ranges, codes from their value sets. The clinical
 * answers vary freely, so the properties see every combination of findings.
 */
export function validReResponse(): fc.Arbitrary<QuestionnaireResponse> {
  const symptoms = fc.record({
    dry: fc.boolean(),
    cloudy: fc.boolean(),
    preserved: opt(fc.boolean()),
    onsetType: opt(fc.constantFrom(code('lifelong'), code('acquired'))),
    months: opt(fc.integer({ min: 0, max: 1200 })),
  });
  const fertility = fc.record({ wish: fc.boolean(), months: opt(fc.integer({ min: 0, max: 600 })) });
  const trial = opt(
    fc.constantFrom(code('not-tried'), code('effective'), code('failed'), code('not-tolerated'))
  );
  const surgery = fc.tuple(opt(fc.boolean()), opt(fc.boolean()), opt(fc.boolean()), opt(fc.boolean()));
  const conditions = fc.record({
    diabetes: fc.boolean(),
    type: fc.constantFrom(...DIABETES_TYPES),
    dan: opt(fc.boolean()),
    ms: opt(fc.boolean()),
    sci: opt(fc.boolean()),
    paraplegia: opt(fc.constantFrom('none', 'complete', 'incomplete', 'unspecified')),
    other: opt(fc.boolean()),
    htn: opt(fc.boolean()),
    uncontrolled: opt(fc.boolean()),
  });
  const meds = fc.array(fc.record({ drug: fc.constantFrom(...RISK_DRUGS), stoppable: fc.boolean() }), {
    maxLength: 3,
  });
  const associated = fc.record({
    shim: opt(fc.integer({ min: 5, max: 25 })),
    pedt: opt(fc.integer({ min: 0, max: 20 })),
    bother: fc.boolean(),
    stress: opt(fc.boolean()),
    anxiety: opt(fc.boolean()),
    relationship: opt(fc.boolean()),
    aetiology: opt(fc.constantFrom('organic', 'psychogenic', 'mixed', 'not-assessed')),
  });
  const investigations = opt(
    fc.record({
      volume: opt(fc.constantFrom(0, 0.3, 0.9, 1.0, 1.3, 1.4, 1.5, 2.0, 3.2)),
      concentration: fc.integer({ min: 0, max: 120 }),
      edition: fc.constantFrom(code('who-2010'), code('who-2021')),
      peu: opt(fc.boolean()),
      hba1c: opt(fc.constantFrom(5.2, 6.8, 9.1)),
      byPractitioner: fc.boolean(),
    })
  );
  return fc
    .record({
      id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,20}$/),
      status: fc.constantFrom('completed' as const, 'amended' as const),
      authorIsPractitioner: fc.boolean(),
      symptoms,
      fertility,
      trial,
      surgery,
      conditions,
      meds,
      associated,
      investigations,
    })
    .map((a) => {
      const anySymptom = a.symptoms.dry || a.symptoms.cloudy;
      const author = a.authorIsPractitioner
        ? { reference: 'Practitioner/dr-1' }
        : { reference: 'Patient/p-1' };
      const items: (QuestionnaireResponseItem | undefined)[] = [
        group('symptoms', [
          b('dry-orgasm', a.symptoms.dry),
          b('cloudy-urine', a.symptoms.cloudy),
          a.symptoms.preserved === undefined ? undefined : b('orgasm-preserved', a.symptoms.preserved),
          anySymptom && a.symptoms.onsetType ? coding('symptom-onset-type', a.symptoms.onsetType) : undefined,
          anySymptom && a.symptoms.months !== undefined
            ? int('symptom-duration-months', a.symptoms.months)
            : undefined,
        ]),
        group('fertility', [
          b('fertility-wish', a.fertility.wish),
          a.fertility.wish && a.fertility.months !== undefined
            ? int('months-trying', a.fertility.months)
            : undefined,
        ]),
      ];
      if (a.trial) {
        items.push(group('treatment-history', [coding('prior-drug-trial', a.trial)]));
      }
      const [turp, prost, rplnd, neck] = a.surgery;
      const c = a.conditions;
      items.push(
        group('risk-factors', [
          group('surgery', [
            turp === undefined ? undefined : b('surgery-turp', turp),
            prost === undefined ? undefined : b('surgery-prostatectomy', prost),
            rplnd === undefined ? undefined : b('surgery-rplnd', rplnd),
            neck === undefined ? undefined : b('surgery-bladder-neck', neck),
          ]),
          group('conditions', [
            b('diabetes', c.diabetes),
            c.diabetes ? coding('diabetes-type', c.type) : undefined,
            c.diabetes && c.dan !== undefined ? b('diabetic-autonomic-neuropathy', c.dan) : undefined,
            c.ms === undefined ? undefined : b('multiple-sclerosis', c.ms),
            c.sci === undefined ? undefined : b('spinal-cord-injury', c.sci),
            c.sci && c.paraplegia ? coding('paraplegia', code(c.paraplegia)) : undefined,
            c.other === undefined ? undefined : b('other-autonomic-neuropathy', c.other),
            c.htn === undefined ? undefined : b('hypertension', c.htn),
            c.htn && c.uncontrolled !== undefined
              ? b('hypertension-uncontrolled', c.uncontrolled)
              : undefined,
          ]),
          ...a.meds.map((m) =>
            group('medications', [coding('medication', m.drug), b('medication-stoppable', m.stoppable)])
          ),
        ])
      );
      const s = a.associated;
      items.push(
        group('associated', [
          s.shim === undefined ? undefined : int('shim-total', s.shim),
          s.pedt === undefined ? undefined : int('pedt-total', s.pedt),
          b('bother', s.bother),
          s.stress === undefined ? undefined : b('stress', s.stress),
          s.anxiety === undefined ? undefined : b('anxiety', s.anxiety),
          s.relationship === undefined ? undefined : b('relationship-impact', s.relationship),
          s.shim !== undefined && s.aetiology ? coding('ed-aetiology', code(s.aetiology)) : undefined,
        ])
      );
      const inv = a.investigations;
      if (inv && (inv.volume !== undefined || inv.peu !== undefined || inv.hba1c !== undefined)) {
        const semen =
          inv.volume === undefined
            ? undefined
            : group('semen-analysis', [
                dec('semen-volume', inv.volume),
                inv.volume > 0 ? dec('sperm-concentration', inv.concentration) : undefined,
                coding('who-edition', inv.edition),
              ]);
        const investigations = group('investigations', [
          semen,
          inv.peu === undefined ? undefined : group('peu', [b('peu-sperm-seen', inv.peu)]),
          inv.hba1c === undefined ? undefined : group('hormones', [dec('hba1c', inv.hba1c)]),
        ])!;
        items.push({
          ...(inv.byPractitioner
            ? { extension: [{ url: AUTHOR_EXT, valueReference: { reference: 'Practitioner/dr-2' } }] }
            : {}),
          ...investigations,
        });
      }
      return {
        resourceType: 'QuestionnaireResponse',
        id: a.id,
        questionnaire: `${BASE}/Questionnaire/re-evaluation|0.1.0`,
        status: a.status,
        subject: { reference: 'Patient/p-1' },
        authored: '2026-11-20T10:00:00Z',
        author,
        item: present(items),
      } satisfies QuestionnaireResponse;
    });
}
