import { compile } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { childStep, MemberSteps } from '../../../src/core/fhirpath/navigate';

/** fhirpath.js's own typing of a child: the ResourceNode it makes for `parent.key` in a base. */
function typedByFhirPathJs(base: string, key: string, data: object): { path: unknown; type: unknown } {
  const [node] = compile({ base, expression: key }, r4, { resolveInternalTypes: false })(data, {}) as {
    path: unknown;
    fhirNodeDataType: unknown;
  }[];
  return { path: node!.path, type: node!.fhirNodeDataType };
}

describe('member steps (navigate.ts)', () => {
  test.each([
    ['QuestionnaireResponse', 'item', { item: [{ linkId: 'a' }] }],
    ['QuestionnaireResponse.item', 'linkId', { linkId: 'a' }],
    ['QuestionnaireResponse.item', 'item', { item: [{ linkId: 'a' }] }], // defined elsewhere
    ['QuestionnaireResponse.item.answer', 'value', { valueCoding: { code: 'c' } }], // a choice
    ['QuestionnaireResponse.item.answer', 'value', { valueDate: '2024-01-01' }],
    ['QuestionnaireResponse', 'authored', { authored: '2024-01-01' }],
    ['Condition', 'extension', { extension: [{ url: 'http://e' }] }],
    ['Observation', 'value', { valueQuantity: { value: 1 } }],
  ])('%s.%s is typed as fhirpath.js types it', (parent, key, data) => {
    const step = childStep(parent, key);
    const found = step.fields.findIndex((field) => field in data);
    expect(found).toBeGreaterThanOrEqual(0);
    expect(step.extensionFields[found]).toBe(`_${step.fields[found]}`);
    expect({ path: step.paths[found], type: step.types[found] }).toEqual(
      typedByFhirPathJs(parent, key, data)
    );
  });

  test('a choice lists every type suffix, in the model order', () => {
    const step = childStep('QuestionnaireResponse.item.answer', 'value');
    expect(step.fields).toContain('valueBoolean');
    expect(step.fields).toContain('valueCoding');
    expect(step.fields).toEqual(step.extensionFields.map((f) => f.slice(1)));
  });

  test('the table answers every parent path the same, kept or not, in any order', () => {
    const steps = new MemberSteps('extension');
    const parents = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? 'Condition' : `X${i}`));
    for (const parent of [...parents, ...parents.reverse()]) {
      expect(steps.from(parent)).toEqual(childStep(parent, 'extension'));
    }
    expect(steps.untyped).toEqual({
      fields: ['extension'],
      extensionFields: ['_extension'],
      paths: [null],
      types: [null],
    });
  });
});
