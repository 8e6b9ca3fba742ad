import type { CodeSystem, CodeSystemConcept, ConceptMap, ValueSet } from '@medplum/fhirtypes';
import { CONTENT } from '../../src/core/conformance/content';
import { Terminology } from '../../src/core/terminology/terminology';
import { loadContentFiles } from '../helpers/content-files';

// The terminology artefacts in valuesets/ against the team conventions and the content design.

const BASE = 'http://re-fhir.org/fhir';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
const ICD11 = 'http://id.who.int/icd/release/11/mms';
const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const ATC = 'http://www.whocc.no/atc';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const EDITIONS: Record<string, string> = {
  [ICD10CM]: '2021',
  [ICD11]: '2019-04',
  [SNOMED]: 'http://snomed.info/sct/900000000000207008/version/20220731',
};

const files = loadContentFiles().filter((f) => f.path.startsWith('valuesets/'));
const resources = loadContentFiles().map((f) => f.resource);
const terminology = new Terminology(resources);
const codeSystems = files.filter((f) => f.resource.resourceType === 'CodeSystem');
const valueSets = files.filter((f) => f.resource.resourceType === 'ValueSet');
const byId = <T>(type: string, id: string): T => {
  const file = files.find((f) => f.resource.resourceType === type && f.resource.id === id);
  if (!file) {
    throw new Error(`${type}/${id} is missing`);
  }
  return file.resource as T;
};
const flatten = (concepts: readonly CodeSystemConcept[] = []): CodeSystemConcept[] =>
  concepts.flatMap((c) => [c, ...flatten(c.concept)]);
const codesOf = (canonical: string, system?: string): string[] => {
  const result = terminology.expansion(canonical);
  if (!result.ok) {
    throw new Error(JSON.stringify(result.issues));
  }
  return result.value.entries.filter((e) => system === undefined || e.system === system).map((e) => e.code);
};

describe('terminology files', () => {
  test.each(files.map((f) => [f.path, f] as const))(
    '%s is named after its type and id and formatted canonically',
    (path, f) => {
      expect(path).toBe(`valuesets/${f.resource.resourceType}-${f.resource.id}.json`);
      expect(f.text).toBe(JSON.stringify(f.resource, null, 2) + '\n');
    }
  );

  test.each(files.map((f) => [f.path, f.resource as CodeSystem | ValueSet | ConceptMap] as const))(
    '%s carries the shared CRMI shareable and publishable metadata',
    (_path, r) => {
      const type = r.resourceType.toLowerCase();
      expect(r.id).toMatch(/^re-[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(r.meta?.profile).toEqual([
        `http://hl7.org/fhir/uv/crmi/StructureDefinition/crmi-shareable${type}`,
        `http://hl7.org/fhir/uv/crmi/StructureDefinition/crmi-publishable${type}`,
      ]);
      expect(r.url).toBe(`${BASE}/${r.resourceType}/${r.id}`);
      expect(r.version).toBe('0.1.0');
      expect(r.name).toMatch(/^[A-Z][A-Za-z0-9_]{0,254}$/);
      expect(r.title?.length).toBeGreaterThan(3);
      expect(r.status).toBe('active');
      expect(r.experimental).toBe(false);
      expect(r.date).toBe('2026-11-27');
      expect(r.publisher).toBe('re-fhir');
      expect(r.description?.length).toBeGreaterThan(20);
      expect(r.jurisdiction).toEqual([
        {
          coding: [
            { system: 'http://unstats.un.org/unsd/methods/m49/m49.htm', code: '001', display: 'World' },
          ],
        },
      ]);
    }
  );

  test('every terminology file is registered in CONTENT, unchanged', () => {
    for (const f of files) {
      const registered = CONTENT.find(
        (r) => r.resourceType === f.resource.resourceType && r.id === f.resource.id
      );
      expect(registered).toEqual(f.resource);
    }
  });
});

describe('local CodeSystems', () => {
  test('are exactly the five of the content design (re-item comes with the Questionnaire)', () => {
    expect(codeSystems.map((f) => f.resource.id).filter((id) => id !== 're-item')).toEqual([
      're-activity',
      're-answer',
      're-evidence-basis',
      're-finding',
      're-rule',
    ]);
  });

  test.each(codeSystems.map((f) => [f.path, f.resource as CodeSystem] as const))(
    '%s is complete, case sensitive, counted, and defines every concept',
    (_path, cs) => {
      const concepts = flatten(cs.concept);
      expect(cs.content).toBe('complete');
      expect(cs.caseSensitive).toBe(true);
      expect(cs.count).toBe(concepts.length);
      expect(new Set(concepts.map((c) => c.code)).size).toBe(concepts.length);
      for (const c of concepts) {
        expect(c.display?.trim()).toBeTruthy();
        expect(c.definition?.trim()).toBeTruthy();
      }
      const declared = new Set((cs.property ?? []).map((p) => p.code));
      const used = new Set(concepts.flatMap((c) => (c.property ?? []).map((p) => p.code)));
      expect([...used].filter((code) => !declared.has(code))).toEqual([]);
    }
  );

  test('re-rule has R1–R12, INF and RF with the rule titles of clinical.md §7', () => {
    const cs = byId<CodeSystem>('CodeSystem', 're-rule');
    expect(Object.fromEntries((cs.concept ?? []).map((c) => [c.code, c.display]))).toEqual({
      R1: 'Suspect retrograde ejaculation',
      R2: 'Semen analysis',
      R3: 'Post-ejaculatory urinalysis',
      R4: 'Interpret the post-ejaculatory urinalysis',
      R5: 'Work up causes',
      R6: 'Screen related sexual and psychological problems',
      R7: 'Drug-induced retrograde ejaculation',
      R8: 'Reassurance when no fertility wish and little bother',
      R9: 'Drug trial for fertility wish or bother',
      R10: 'Sperm retrieval and assisted reproduction',
      R11: 'Bladder-neck surgery (unverified option)',
      R12: 'Pelvic floor physiotherapy (unverified option)',
      INF: 'Male infertility by duration of trying [C]',
      RF: 'Risk-factor conditions',
    });
  });

  test('re-rule gives an evidence basis to every rule except the unverified options R11 and R12', () => {
    const cs = byId<CodeSystem>('CodeSystem', 're-rule');
    const withoutBasis = (cs.concept ?? [])
      .filter((c) => !(c.property ?? []).some((p) => p.code === 'evidence-basis'))
      .map((c) => c.code);
    expect(withoutBasis).toEqual(['R11', 'R12']);
  });

  test('re-evidence-basis has G, L, S and C and says plainly that it is not GRADE', () => {
    const cs = byId<CodeSystem>('CodeSystem', 're-evidence-basis');
    expect((cs.concept ?? []).map((c) => [c.code, c.display])).toEqual([
      ['G', 'Guideline text'],
      ['L', 'Laboratory practice'],
      ['S', 'Study data'],
      ['C', 'Convention or derivation by this module'],
    ]);
    expect(cs.description).toMatch(/NOT GRADE/);
  });

  test('re-finding and re-activity have the codes of the content design', () => {
    expect((byId<CodeSystem>('CodeSystem', 're-finding').concept ?? []).map((c) => c.code)).toEqual([
      're-complete',
      're-partial',
      're-suspected',
      'anejaculation',
      'ed-organic',
      'ed-psychogenic',
      'pe',
      'pe-probable',
      'male-infertility',
      'dm1',
      'dm2',
      'dm-other',
      'dm-other-specified',
      'dm1-autonomic-neuropathy',
      'dm2-autonomic-neuropathy',
      'dm-other-autonomic-neuropathy',
      'dm-other-specified-autonomic-neuropathy',
      'multiple-sclerosis',
      'spinal-cord-injury',
      'paraplegia-complete',
      'paraplegia-incomplete',
      'paraplegia-unspecified',
      'autonomic-neuropathy',
    ]);
    expect((byId<CodeSystem>('CodeSystem', 're-activity').concept ?? []).map((c) => c.code)).toEqual([
      'semen-analysis',
      'post-ejaculatory-urinalysis',
      'transrectal-ultrasound',
      'stop-or-switch-culprit-drug',
      'reassurance-education',
      'drug-trial-counselling',
      'referral-reproductive-medicine',
      'urinary-sperm-retrieval',
      'referral-sexual-medicine',
      'referral-mental-health-sexual',
      'bladder-neck-reconstruction',
      'pelvic-floor-physiotherapy',
      'sympathomimetic-contraindicated',
    ]);
  });
});

describe('ValueSets', () => {
  const vs = (id: string): string => `${BASE}/ValueSet/${id}`;

  test('re-conditions holds the Condition codes of the content design and all of re-finding', () => {
    // prettier-ignore
    expect(codesOf(vs('re-conditions'), ICD10CM)).toEqual([
      'N53.14', 'N53.13', 'N52.9', 'F52.21', 'F52.4', 'N46.9', 'E10.9', 'E11.9',
      'E10.43', 'E11.43', 'E13.43', 'G35', 'G82.20', 'G82.21', 'G82.22', 'G90.9',
    ]);
    // prettier-ignore
    expect(codesOf(vs('re-conditions'), ICD11)).toEqual([
      'MF40.3', 'HA01.1', 'HA03.0', 'GB04.Z', '5A10', '5A11', '8D88.1', '8A40', 'MB56',
    ]);
    // prettier-ignore
    expect(codesOf(vs('re-conditions'), SNOMED)).toEqual([
      '860914002', '860918004', '44001008', '2904007', '46635009', '44054006', '73211009',
      '712882000', '712883005', '50620007', '24700007', '90584004', '60389000', '277879009',
    ]);
    const finding = byId<CodeSystem>('CodeSystem', 're-finding');
    expect(codesOf(vs('re-conditions'), finding.url)).toEqual((finding.concept ?? []).map((c) => c.code));
  });

  test('re-risk-medications is the union of the five drug-class ValueSets, one include each', () => {
    const classes = [
      're-alpha-blockers',
      're-5-alpha-reductase-inhibitors',
      're-antidepressants',
      're-antipsychotics',
      're-other-risk-drugs',
    ];
    const union = byId<ValueSet>('ValueSet', 're-risk-medications');
    expect(union.compose?.include).toEqual(classes.map((id) => ({ valueSet: [`${vs(id)}|0.1.0`] })));
    expect(codesOf(vs('re-risk-medications'))).toEqual(classes.flatMap((id) => codesOf(vs(id))));
    expect(codesOf(vs('re-risk-medications'))).toHaveLength(20);
  });

  test('the drug ValueSets hold the ATC and RxNorm codes of the content design', () => {
    expect(codesOf(vs('re-alpha-blockers'))).toEqual([
      'G04CA02',
      'G04CA04',
      'G04CA01',
      'G04CA03',
      'C02CA04',
      'C02CA01',
    ]);
    expect(codesOf(vs('re-5-alpha-reductase-inhibitors'))).toEqual(['G04CB01', 'G04CB02']);
    // prettier-ignore
    expect(codesOf(vs('re-antidepressants'))).toEqual([
      'N06AB06', 'N06AB05', 'N06AB03', 'N06AB04', 'N06AB10', 'N06AX16', 'N06AX21', 'N06AA09', 'N06AA04',
    ]);
    expect(codesOf(vs('re-antipsychotics'))).toEqual(['N05AC02', 'N05AX08']);
    expect(codesOf(vs('re-other-risk-drugs'))).toEqual(['C02CC02']);
    // prettier-ignore
    expect(codesOf(vs('re-treatment-medications'), ATC)).toEqual([
      'C01CA26', 'C01CA17', 'R01BA02', 'R06AB01', 'N06AA02', 'N06AA01',
    ]);
    expect(codesOf(vs('re-treatment-medications'), RXNORM)).toEqual(['5691', '3247']);
  });

  test('the procedure, laboratory and diabetes ValueSets hold the codes of the content design', () => {
    // prettier-ignore
    expect(codesOf(vs('re-surgical-history'))).toEqual([
      '90199006', '87795007', '90470006', '176258007', '26294005',
      '65551008', '8782006', '34969007', '428079009', '428642007',
    ]);
    // prettier-ignore
    expect(codesOf(vs('re-lab-tests'))).toEqual([
      '3160-9', '9780-8', '6800-7', '13943-6', '51479-4', '53324-0',
      '4548-4', '2345-7', '2986-8', '15067-2', '10501-5', '2842-3', '3016-3',
    ]);
    expect(codesOf(vs('re-diabetes-type'))).toEqual([
      '46635009',
      '44054006',
      '73211009',
      'dm-other-specified',
    ]);
  });

  test('the answer ValueSets draw only on re-answer (re-diabetes-type adds one answer to SNOMED CT), and each answer code is in exactly one of them', () => {
    const answer = byId<CodeSystem>('CodeSystem', 're-answer');
    const lists: Record<string, string[]> = {
      're-partner-status': [
        'partner-no-known-issue',
        'partner-fertility-issue',
        'partner-not-evaluated',
        'no-current-partner',
      ],
      're-onset-type': ['lifelong', 'acquired'],
      're-who-edition': ['who-2010', 'who-2021'],
      're-peu-method': ['automated', 'manual'],
      're-ed-aetiology': ['organic', 'psychogenic', 'mixed', 'not-assessed'],
      're-prior-drug-trial': ['not-tried', 'effective', 'failed', 'not-tolerated'],
      're-paraplegia-extent': ['none', 'complete', 'incomplete', 'unspecified'],
    };
    for (const [id, codes] of Object.entries(lists)) {
      expect([id, codesOf(vs(id), answer.url)]).toEqual([id, codes]);
      expect([id, codesOf(vs(id)).length]).toEqual([id, codes.length]);
    }
    const diabetesAnswers = codesOf(vs('re-diabetes-type'), answer.url);
    expect(diabetesAnswers).toEqual(['dm-other-specified']);
    expect([...Object.values(lists).flat(), ...diabetesAnswers].sort()).toEqual(
      (answer.concept ?? []).map((c) => c.code).sort()
    );
  });

  test('re-rule and re-evidence-basis include their whole CodeSystems', () => {
    expect(byId<ValueSet>('ValueSet', 're-rule').compose?.include).toEqual([
      { system: `${BASE}/CodeSystem/re-rule` },
    ]);
    expect(byId<ValueSet>('ValueSet', 're-evidence-basis').compose?.include).toEqual([
      { system: `${BASE}/CodeSystem/re-evidence-basis` },
    ]);
    expect(codesOf(vs('re-evidence-basis'))).toEqual(['G', 'L', 'S', 'C']);
  });

  test.each(valueSets.map((f) => [f.path, f.resource as ValueSet] as const))(
    '%s pins the edition of ICD-10-CM, ICD-11 and SNOMED CT includes, and no other external edition',
    (_path, valueSet) => {
      for (const include of valueSet.compose?.include ?? []) {
        if (include.system !== undefined && !include.system.startsWith(BASE)) {
          expect([include.system, include.version]).toEqual([include.system, EDITIONS[include.system]]);
        }
      }
    }
  );

  test.each(valueSets.map((f) => [f.path, f.resource as ValueSet] as const))(
    '%s states the licence of SNOMED CT, LOINC and ICD-11 content exactly when it draws on them',
    (_path, valueSet) => {
      const systems = new Set(expandedSystems(valueSet));
      const copyright = valueSet.copyright ?? '';
      expect([SNOMED, systems.has(SNOMED)]).toEqual([
        SNOMED,
        /SNOMED International.*Affiliate Licence/s.test(copyright),
      ]);
      expect([LOINC, systems.has(LOINC)]).toEqual([
        LOINC,
        /Regenstrief Institute.*loinc\.org\/license/s.test(copyright),
      ]);
      expect([ICD11, systems.has(ICD11)]).toEqual([
        ICD11,
        /World Health Organization.*CC BY-ND 3\.0 IGO/s.test(copyright),
      ]);
    }
  );
});

function expandedSystems(valueSet: ValueSet): string[] {
  const result = terminology.expansion(`${valueSet.url}|${valueSet.version}`);
  return result.ok ? result.value.entries.map((e) => e.system) : [];
}

describe('ConceptMap re-icd10cm-to-icd11', () => {
  const map = byId<ConceptMap>('ConceptMap', 're-icd10cm-to-icd11');

  test('maps ICD-10-CM FY2021 to ICD-11 MMS 2019-04 as the content design says', () => {
    expect(map.group).toHaveLength(1);
    const group = map.group![0]!;
    expect([group.source, group.sourceVersion, group.target, group.targetVersion]).toEqual([
      ICD10CM,
      '2021',
      ICD11,
      '2019-04',
    ]);
    expect(
      (group.element ?? []).map((e) => [
        e.code,
        ...(e.target ?? []).map((t) => `${t.code ?? '-'} ${t.equivalence}`),
      ])
    ).toEqual([
      ['N53.14', 'MF40.3 equivalent'],
      ['N53.13', '- unmatched'],
      ['N52.9', 'HA01.1 wider'],
      ['F52.21', 'HA01.1 wider'],
      ['F52.4', 'HA03.0 equivalent'],
      ['N46.9', 'GB04.Z equivalent'],
      ['E10.9', '5A10 wider'],
      ['E11.9', '5A11 wider'],
      ['E10.43', '8D88.1 wider'],
      ['E11.43', '8D88.1 wider'],
      ['E13.43', '8D88.1 wider'],
      ['G35', '8A40 equivalent'],
      ['G82.20', 'MB56 wider'],
      ['G82.21', 'MB56 wider'],
      ['G82.22', 'MB56 wider'],
      ['G90.9', '- unmatched'],
    ]);
  });

  test('explains the HA40.1 postcoordination of F52.21 and every unmatched or inexact mapping (cmd-1)', () => {
    const targets = (map.group ?? []).flatMap((g) =>
      (g.element ?? []).flatMap((e) => (e.target ?? []).map((t) => ({ e, t })))
    );
    expect(targets.find(({ e }) => e.code === 'F52.21')?.t.comment).toMatch(/HA40\.1/);
    const unexplained = targets
      .filter(({ t }) => ['narrower', 'inexact', 'unmatched', 'wider'].includes(t.equivalence!) && !t.comment)
      .map(({ e }) => e.code);
    expect(unexplained).toEqual([]);
  });

  test('says that the equivalences are its own mapping judgement', () => {
    expect(map.description).toMatch(/mapping judgement/);
  });

  test('maps only codes that re-conditions holds, on both sides', () => {
    const conditions = `${BASE}/ValueSet/re-conditions`;
    for (const group of map.group ?? []) {
      for (const element of group.element ?? []) {
        expect([element.code, terminology.memberOf(conditions, group.source!, element.code!)]).toEqual([
          element.code,
          true,
        ]);
        for (const t of element.target ?? []) {
          if (t.code !== undefined) {
            expect([t.code, terminology.memberOf(conditions, group.target!, t.code)]).toEqual([t.code, true]);
          }
        }
      }
    }
  });
});
