import { lookupParameters } from '../../../src/core/terminology/parameters';
import { shippedTerminology, Terminology } from '../../../src/core/terminology/terminology';
import { COLOURS, fixtureResources, SHAPES } from './fixtures';

const terminology = new Terminology(fixtureResources);

describe('CodeSystem $lookup', () => {
  test('returns name, version, display, definition, designations and properties', () => {
    expect(terminology.lookup({ system: COLOURS, code: 'red' })).toEqual({
      ok: true,
      issues: [],
      value: {
        name: 'Colours',
        version: '1.0.0',
        display: 'Red',
        definition: 'The colour of blood.',
        abstract: false,
        inactive: false,
        designation: [{ language: 'fr', value: 'Rouge' }],
        property: [
          { code: 'hex', value: { valueString: '#ff0000' } },
          { code: 'family', value: { valueCoding: { system: SHAPES, code: 'circle', display: 'Circle' } } },
          { code: 'inactive', value: { valueBoolean: false } },
        ],
      },
    });
  });

  test('reports the hierarchy as parent and child properties, and status as inactive', () => {
    const blue = terminology.lookup({
      coding: { system: COLOURS, code: 'blue' },
      properties: ['child', 'parent'],
    });
    expect(blue.ok && blue.value.property).toEqual([{ code: 'child', value: { valueCode: 'light-blue' } }]);
    const light = terminology.lookup({ system: COLOURS, code: 'light-blue', properties: ['parent'] });
    expect(light.ok && light.value.property).toEqual([{ code: 'parent', value: { valueCode: 'blue' } }]);
    const grey = terminology.lookup({ system: COLOURS, code: 'old-grey' });
    expect(grey.ok && grey.value).toMatchObject({
      inactive: true,
      property: [
        { code: 'status', value: { valueCode: 'retired' } },
        { code: 'inactive', value: { valueBoolean: true } },
      ],
    });
  });

  test('returns only the properties asked for', () => {
    const result = terminology.lookup({ system: COLOURS, code: 'red', properties: ['hex'] });
    expect(result.ok && result.value).toMatchObject({ designation: [], property: [{ code: 'hex' }] });
    expect(result.ok && result.value.definition).toBeUndefined();
  });

  test('falls back to the CodeSystem name when it has no title, and finds codes case-insensitively where allowed', () => {
    const result = terminology.lookup({ system: SHAPES, code: 'SQUARE' });
    expect(result.ok && result.value).toMatchObject({ name: 'Shapes', version: '2', display: 'Square' });
  });

  test('fails with not-found for an unknown code system, version or code', () => {
    expect(terminology.lookup({ system: 'http://unknown', code: 'x' })).toEqual({
      ok: false,
      kind: 'not-found',
      issues: [
        {
          severity: 'error',
          code: 'not-found',
          details: { text: 'Code system http://unknown is not known' },
        },
      ],
    });
    expect(terminology.lookup({ system: COLOURS, version: '2.0.0', code: 'red' })).toMatchObject({
      ok: false,
      issues: [{ details: { text: `Code system ${COLOURS} version 2.0.0 is not known` } }],
    });
    expect(terminology.lookup({ system: COLOURS, code: 'purple' })).toMatchObject({
      ok: false,
      kind: 'not-found',
      issues: [{ details: { text: `Unknown code 'purple' in code system '${COLOURS}'` } }],
    });
  });

  test('fails for input without both system and code, or with both a coding and a code', () => {
    for (const input of [
      { code: 'red' },
      { system: COLOURS },
      { coding: { code: 'red' } },
      { coding: { system: COLOURS, code: 'red' }, code: 'red' },
    ]) {
      expect(terminology.lookup(input)).toMatchObject({
        ok: false,
        kind: 'structural',
        issues: [{ code: 'invalid' }],
      });
    }
  });

  test('shows the evidence basis of a shipped rule', () => {
    const result = shippedTerminology().lookup({
      system: 'http://re-fhir.org/fhir/CodeSystem/re-rule',
      code: 'R9',
    });
    expect(result.ok && result.value.display).toBe('Drug trial for fertility wish or bother');
    expect(result.ok && result.value.property.filter((p) => p.code === 'evidence-basis')).toEqual([
      {
        code: 'evidence-basis',
        value: {
          valueCoding: {
            system: 'http://re-fhir.org/fhir/CodeSystem/re-evidence-basis',
            code: 'G',
            display: 'Guideline text',
          },
        },
      },
    ]);
  });
});

describe('lookupParameters', () => {
  test('builds the R4 output, returning the definition as the standard definition property', () => {
    const result = terminology.lookup({
      system: COLOURS,
      code: 'red',
      properties: ['definition', 'designation', 'hex'],
    });
    expect(result.ok && lookupParameters(result.value)).toEqual({
      resourceType: 'Parameters',
      parameter: [
        { name: 'name', valueString: 'Colours' },
        { name: 'version', valueString: '1.0.0' },
        { name: 'display', valueString: 'Red' },
        {
          name: 'designation',
          part: [
            { name: 'language', valueCode: 'fr' },
            { name: 'value', valueString: 'Rouge' },
          ],
        },
        {
          name: 'property',
          part: [
            { name: 'code', valueCode: 'definition' },
            { name: 'value', valueString: 'The colour of blood.' },
          ],
        },
        {
          name: 'property',
          part: [
            { name: 'code', valueCode: 'hex' },
            { name: 'value', valueString: '#ff0000' },
          ],
        },
      ],
    });
  });
});
