import { translateParameters } from '../../../src/core/terminology/parameters';
import { shippedTerminology, Terminology } from '../../../src/core/terminology/terminology';
import { COLOURS, conceptMap, fixtureResources, SHAPES } from './fixtures';

const terminology = new Terminology(fixtureResources);
const MAP = 'http://example.org/cm/colour-to-shape';

describe('ConceptMap $translate', () => {
  test('returns every target of the element with its equivalence, target version and comment', () => {
    expect(terminology.translate(MAP, { system: COLOURS, code: 'blue', targetSystem: SHAPES })).toEqual({
      ok: true,
      issues: [],
      value: {
        result: true,
        matches: [
          {
            equivalence: 'inexact',
            concept: { system: SHAPES, version: '2', code: 'Circle' },
            source: `${MAP}|1`,
            comment: 'Sometimes.',
          },
          {
            equivalence: 'equivalent',
            concept: { system: SHAPES, version: '2', code: 'Square' },
            source: `${MAP}|1`,
          },
        ],
      },
    });
  });

  test('answers false for an unmatched code, with the comment as message', () => {
    const result = terminology.translate(conceptMap, {
      system: COLOURS,
      code: 'green',
      targetSystem: SHAPES,
    });
    expect(result.ok && result.value).toEqual({
      result: false,
      message: `${COLOURS}#green has no match in ConceptMap ${MAP}|1: Green has no shape.`,
      matches: [{ equivalence: 'unmatched', source: `${MAP}|1`, comment: 'Green has no shape.' }],
    });
  });

  test('treats a disjoint target as no match', () => {
    const result = terminology.translate(MAP, {
      system: COLOURS,
      code: 'red',
      targetSystem: 'http://snomed.info/sct',
    });
    expect(result.ok && result.value.result).toBe(false);
  });

  test('answers false when no group maps from the system or version', () => {
    const otherVersion = terminology.translate(MAP, {
      system: COLOURS,
      version: '0.1',
      code: 'red',
      targetSystem: SHAPES,
    });
    expect(otherVersion.ok && otherVersion.value).toEqual({
      result: false,
      message: `ConceptMap ${MAP}|1 has no mappings from ${COLOURS} to ${SHAPES}`,
      matches: [],
    });
    const unmappedCode = terminology.translate(MAP, {
      system: COLOURS,
      code: 'purple',
      targetSystem: SHAPES,
    });
    expect(unmappedCode.ok && unmappedCode.value.message).toBe(
      `ConceptMap ${MAP}|1 has no mapping for ${COLOURS}#purple`
    );
  });

  test('refuses a group with unmapped handling instead of guessing', () => {
    expect(terminology.translate(MAP, { system: COLOURS, code: 'purple' })).toMatchObject({
      ok: false,
      kind: 'conformance',
      issues: [{ code: 'not-supported', expression: ['ConceptMap.group[1].unmapped'] }],
    });
  });

  test('fails with not-found for an unknown ConceptMap', () => {
    expect(
      terminology.translate('http://example.org/cm/none', { system: COLOURS, code: 'red' })
    ).toMatchObject({
      ok: false,
      kind: 'not-found',
    });
  });

  test('translates the shipped ICD-10-CM codes to ICD-11', () => {
    const map = 'http://re-fhir.org/fhir/ConceptMap/re-icd10cm-to-icd11';
    const re = shippedTerminology().translate(map, {
      system: 'http://hl7.org/fhir/sid/icd-10-cm',
      version: '2021',
      code: 'N53.14',
    });
    expect(re.ok && re.value.matches).toEqual([
      {
        equivalence: 'equivalent',
        concept: {
          system: 'http://id.who.int/icd/release/11/mms',
          version: '2019-04',
          code: 'MF40.3',
          display: 'Retrograde ejaculation',
        },
        source: `${map}|0.1.0`,
      },
    ]);
    const ed = shippedTerminology().translate(map, {
      system: 'http://hl7.org/fhir/sid/icd-10-cm',
      code: 'F52.21',
    });
    expect(ed.ok && ed.value.matches[0]).toMatchObject({ equivalence: 'wider', concept: { code: 'HA01.1' } });
  });
});

describe('translateParameters', () => {
  test('builds the R4 output with one match per candidate', () => {
    const result = terminology.translate(MAP, { system: COLOURS, code: 'green', targetSystem: SHAPES });
    expect(result.ok && translateParameters(result.value)).toEqual({
      resourceType: 'Parameters',
      parameter: [
        { name: 'result', valueBoolean: false },
        {
          name: 'message',
          valueString: `${COLOURS}#green has no match in ConceptMap ${MAP}|1: Green has no shape.`,
        },
        {
          name: 'match',
          part: [
            { name: 'equivalence', valueCode: 'unmatched' },
            { name: 'source', valueUri: `${MAP}|1` },
          ],
        },
      ],
    });
    const blue = terminology.translate(MAP, { system: COLOURS, code: 'red', targetSystem: SHAPES });
    expect(blue.ok && translateParameters(blue.value).parameter?.[1]).toEqual({
      name: 'match',
      part: [
        { name: 'equivalence', valueCode: 'wider' },
        { name: 'concept', valueCoding: { system: SHAPES, version: '2', code: 'Circle', display: 'Circle' } },
        { name: 'source', valueUri: `${MAP}|1` },
      ],
    });
  });
});
