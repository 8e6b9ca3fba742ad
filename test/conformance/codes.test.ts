import type { CodeSystem, ConceptMap, ValueSet } from '@medplum/fhirtypes';
import { Terminology } from '../../src/core/terminology/terminology';
import { findCodings, loadContentFiles } from '../helpers/content-files';
import type { LocatedCoding } from '../helpers/external-codes';
import { ALLOW_LIST_PATH, checkCodings, loadAllowList } from '../helpers/external-codes';

// Every code in the shipped content must trace to a local CodeSystem or to the allow-list of
// verified external codes. The file list is read from disk, so content added later is checked too.

const files = loadContentFiles();
const resources = files.map((f) => f.resource);
const local = files
  .filter((f) => f.path.startsWith('valuesets/') && f.resource.resourceType === 'CodeSystem')
  .map((f) => f.resource as CodeSystem);
const allow = loadAllowList();
const codings: LocatedCoding[] = files.flatMap((f) =>
  findCodings(f.resource).map((c) => ({ ...c, file: f.path }))
);

const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
const ICD11 = 'http://id.who.int/icd/release/11/mms';
const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';

/** Which clinical.md sources may vouch for which system (S4/S5 are not accepted for shipped codes). */
const SOURCES_BY_SYSTEM: Record<string, readonly string[]> = {
  [ICD10CM]: ['S1'],
  [ICD11]: ['S2'],
  [SNOMED]: ['S3'],
  [LOINC]: ['S8', 'S9', 'S10', 'S12'],
  'http://www.whocc.no/atc': ['S6'],
  'http://www.nlm.nih.gov/research/umls/rxnorm': ['S7'],
  'http://unitsofmeasure.org': ['UCUM'],
  'http://unstats.un.org/unsd/methods/m49/m49.htm': ['M49'],
};

/** Codes that clinical.md says must not be shipped, with the reason. */
const FORBIDDEN: readonly [string, string, string][] = [
  [SNOMED, '3457005', 'S5 only; re-check current status'],
  [SNOMED, '24590004', 'S5 only; re-check current status'],
  [SNOMED, '22034001', 'S5 only; re-check current status'],
  [SNOMED, '73491007', 'status UNVERIFIED (absent from S3)'],
  [SNOMED, '397803000', 'status UNVERIFIED (absent from S3)'],
  [LOINC, '8248-7', 'secondary only'],
  [LOINC, '12841-3', 'is a PSA ratio, not a sperm count'],
  [LOINC, '11068-0', 'conflicting label, UNVERIFIED'],
  [LOINC, '54231-6', 'name unconfirmed'],
];

describe('codes in profiles/ and valuesets/', () => {
  test('the content contains codings to check', () => {
    // Guards against a walker or file-listing regression that would make the next test vacuous.
    expect(files.some((f) => f.path === 'valuesets/ValueSet-re-conditions.json')).toBe(true);
    expect(codings.length).toBeGreaterThan(100);
  });

  test('every code is defined in a local CodeSystem or allow-listed, with its exact display and edition', () => {
    expect(checkCodings(codings, local, allow)).toEqual([]);
  });

  test('no code that clinical.md marks as not to be shipped is used', () => {
    const used = codings
      .filter((c) => FORBIDDEN.some(([system, code]) => c.system === system && c.code === code))
      .map((c) => `${c.file} ${c.path}: ${c.system}#${c.code}`);
    expect(used).toEqual([]);
  });
});

describe(`the allow-list ${ALLOW_LIST_PATH}`, () => {
  test('documents itself and pins the editions of ICD-10-CM, ICD-11 and SNOMED CT', () => {
    expect(allow.about.length).toBeGreaterThan(50);
    expect(allow.editions).toEqual({
      [ICD10CM]: '2021',
      [ICD11]: '2019-04',
      [SNOMED]: 'http://snomed.info/sct/900000000000207008/version/20220731',
    });
  });

  test('has one well-formed entry per code', () => {
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const e of allow.codes) {
      const key = `${e.system}|${e.code}`;
      if (seen.has(key)) {
        problems.push(`${key} is listed twice`);
      }
      seen.add(key);
      if (!/^https?:\/\/\S+$/.test(e.system) || e.code.trim() === '' || e.display.trim() === '') {
        problems.push(`${key} needs an absolute system, a code and a display`);
      }
      const edition = allow.editions[e.system];
      if (e.version !== edition) {
        problems.push(`${key} has version ${String(e.version)}; expected ${String(edition)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test('names an accepted source for every entry', () => {
    const problems = allow.codes
      .filter((e) => {
        const accepted =
          SOURCES_BY_SYSTEM[e.system] ??
          (/^http:\/\/(terminology\.)?hl7\.org\//.test(e.system) ? ['HL7'] : []);
        return !accepted.includes(e.source);
      })
      .map((e) => `${e.system}|${e.code}: source ${e.source}`);
    expect(problems).toEqual([]);
  });

  test('gives UCUM units their code as display, as FHIR R4 defines for UCUM', () => {
    const ucum = allow.codes.filter((e) => e.system === 'http://unitsofmeasure.org');
    expect(ucum.length).toBeGreaterThan(0);
    expect(ucum.filter((e) => e.display !== e.code)).toEqual([]);
  });

  test('does not list codes of the local CodeSystems', () => {
    const localUrls = new Set(local.map((cs) => cs.url));
    expect(allow.codes.filter((e) => localUrls.has(e.system))).toEqual([]);
  });
});

describe('the code check itself', () => {
  const codeSystem: CodeSystem = {
    resourceType: 'CodeSystem',
    id: 'cs',
    url: 'http://example.org/cs',
    version: '1',
    status: 'active',
    content: 'complete',
    concept: [{ code: 'a', display: 'Alpha' }],
  };
  const list = {
    about: 'test',
    editions: { 'http://example.org/edition': 'E1' },
    codes: [
      { system: 'http://example.org/ext', code: 'x', display: 'Ex', source: 'HL7' },
      { system: 'http://example.org/edition', code: 'y', display: 'Why', version: 'E1', source: 'S1' },
    ],
  };
  const at = (c: Partial<LocatedCoding>): LocatedCoding => ({
    file: 'f.json',
    path: 'R.code',
    system: '',
    code: '',
    ...c,
  });

  test('accepts local and allow-listed codes with the right display and edition', () => {
    expect(
      checkCodings(
        [
          at({ system: 'http://example.org/cs', code: 'a', display: 'Alpha' }),
          at({ system: 'http://example.org/ext', code: 'x' }),
          at({ system: 'http://example.org/edition', code: 'y', display: 'Why', version: 'E1' }),
        ],
        [codeSystem],
        list
      )
    ).toEqual([]);
  });

  test('reports unknown codes, wrong displays and wrong or missing editions', () => {
    const problems = checkCodings(
      [
        at({ system: 'http://example.org/cs', code: 'b' }),
        at({ system: 'http://example.org/cs', code: 'a', display: 'alpha' }),
        at({ system: 'http://example.org/ext', code: 'z' }),
        at({ system: 'http://example.org/ext', code: 'x', display: 'Ecks' }),
        at({ system: 'http://example.org/ext', code: 'x', version: '2' }),
        at({ system: 'http://example.org/edition', code: 'y' }),
        at({ system: 'http://example.org/edition', code: 'y', version: 'E0' }),
      ],
      [codeSystem],
      list
    );
    expect(problems).toEqual([
      'f.json R.code: http://example.org/cs#b is not defined in CodeSystem cs',
      'f.json R.code: http://example.org/cs#a has display "alpha"; CodeSystem cs says "Alpha"',
      `f.json R.code: http://example.org/ext#z is neither in a local CodeSystem nor in ${ALLOW_LIST_PATH}`,
      'f.json R.code: http://example.org/ext#x has display "Ecks"; the allow-list says "Ex"',
      'f.json R.code: http://example.org/ext#x carries version "2", but http://example.org/ext has no pinned edition',
      'f.json R.code: http://example.org/edition#y must carry version "E1", not null',
      'f.json R.code: http://example.org/edition#y must carry version "E1", not "E0"',
    ]);
  });
});

describe('ValueSets and ConceptMaps in valuesets/ resolve with the terminology module', () => {
  const terminology = new Terminology(resources);
  const valueSets = files.filter((f) => f.resource.resourceType === 'ValueSet');
  const conceptMaps = files.filter((f) => f.resource.resourceType === 'ConceptMap');

  test.each(valueSets.map((f) => [f.path, f.resource as ValueSet] as const))(
    '%s expands without issues',
    (_path, valueSet) => {
      const result = terminology.expansion(`${valueSet.url}|${valueSet.version}`);
      expect(result.issues).toEqual([]);
      expect(result.ok).toBe(true);
      expect(result.ok && result.value.entries.length).toBeGreaterThan(0);
    }
  );

  test.each(conceptMaps.map((f) => [f.path, f.resource as ConceptMap] as const))(
    '%s translates every element to exactly its targets',
    (_path, conceptMap) => {
      for (const group of conceptMap.group ?? []) {
        for (const element of group.element ?? []) {
          const result = terminology.translate(conceptMap, {
            system: group.source!,
            code: element.code!,
            ...(group.sourceVersion === undefined ? {} : { version: group.sourceVersion }),
          });
          expect(result.issues).toEqual([]);
          expect(result.ok).toBe(true);
          if (!result.ok) {
            continue;
          }
          expect(result.value.matches.map((m) => [m.equivalence, m.concept?.code])).toEqual(
            (element.target ?? []).map((t) => [t.equivalence, t.code])
          );
          const mapped = (element.target ?? []).some(
            (t) => !['unmatched', 'disjoint'].includes(t.equivalence!)
          );
          expect(result.value.result).toBe(mapped);
        }
      }
    }
  );
});
