import type { FhirJsonSchema } from '../../../src/tools/r4-core/schema-elements';
import { createR4ElementTest, missingR4Elements } from '../../../src/tools/r4-core/schema-elements';

// A miniature of the official schema's shape: backbones are reached by $ref, and their names do
// not follow the element path (Questionnaire.item.enableWhen is Questionnaire_EnableWhen).
const schema: FhirJsonSchema = {
  definitions: {
    Meta: { properties: { id: {}, versionId: {}, profile: {} } },
    Questionnaire: {
      properties: {
        resourceType: {},
        id: {},
        _status: {},
        status: {},
        item: { items: { $ref: '#/definitions/Questionnaire_Item' } },
      },
    },
    Questionnaire_Item: {
      properties: {
        linkId: {},
        enableWhen: { items: { $ref: '#/definitions/Questionnaire_EnableWhen' } },
        item: { items: { $ref: '#/definitions/Questionnaire_Item' } },
      },
    },
    Questionnaire_EnableWhen: { properties: { question: {}, answerBoolean: {}, answerString: {} } },
    Timing: { properties: { id: {}, repeat: { $ref: '#/definitions/Timing_Repeat' } } },
    Timing_Repeat: { properties: { id: {}, extension: {}, modifierExtension: {}, count: {} } },
    string: {},
    boolean: {},
  },
};

describe('createR4ElementTest', () => {
  const isR4 = createR4ElementTest(schema);

  test('accepts root elements and elements of backbones reached through $ref', () => {
    expect(isR4('Questionnaire')).toBe(true);
    expect(isR4('Questionnaire.status')).toBe(true);
    expect(isR4('Questionnaire.item.linkId')).toBe(true);
    expect(isR4('Questionnaire.item.enableWhen.question')).toBe(true);
    expect(isR4('Questionnaire.item.item.enableWhen.question')).toBe(true);
  });

  test('rejects elements the schema does not know, and everything below them', () => {
    expect(isR4('Meta.project')).toBe(false);
    expect(isR4('Questionnaire.item.label')).toBe(false);
    expect(isR4('Questionnaire.item.label.text')).toBe(false);
  });

  test('accepts a choice element when the schema has one of its typed properties', () => {
    expect(isR4('Questionnaire.item.enableWhen.answer[x]')).toBe(true);
    expect(isR4('Questionnaire.item.enableWhen.question[x]')).toBe(false);
    expect(isR4('Questionnaire.item.enable[x]')).toBe(false);
  });

  test('does not judge types the schema does not describe as objects', () => {
    expect(isR4('DomainResource.text')).toBe(true);
    expect(isR4('string.value')).toBe(true);
  });

  test('does not treat the JSON-only underscore properties as elements of their own', () => {
    expect(isR4('Questionnaire._status')).toBe(true);
    expect(isR4('Questionnaire.statusReason')).toBe(false);
  });
});

describe('missingR4Elements', () => {
  const questionnaire = [
    'Questionnaire',
    'Questionnaire.id',
    'Questionnaire.status',
    'Questionnaire.item',
    'Questionnaire.item.linkId',
    'Questionnaire.item.enableWhen',
    'Questionnaire.item.enableWhen.question',
    'Questionnaire.item.enableWhen.answer[x]',
  ].map((path) => ({ path }));

  test('finds nothing missing in a complete definition, with contentReference elements not walked again', () => {
    const elements = [
      ...questionnaire,
      { path: 'Questionnaire.item.item', contentReference: '#Questionnaire.item' },
    ];
    expect(missingR4Elements(schema, 'Questionnaire', elements, false)).toEqual([]);
  });

  test('lists R4 elements that were removed, at any depth', () => {
    const elements = questionnaire.filter(
      (e) => e.path !== 'Questionnaire.status' && e.path !== 'Questionnaire.item.enableWhen.answer[x]'
    );
    expect(missingR4Elements(schema, 'Questionnaire', elements, false)).toEqual([
      'Questionnaire.status',
      'Questionnaire.item.enableWhen.answerBoolean',
      'Questionnaire.item.enableWhen.answerString',
      'Questionnaire.item.item',
    ]);
  });

  test('does not require modifierExtension in the backbones of data types, where R4 has none', () => {
    const timing = [
      'Timing',
      'Timing.id',
      'Timing.repeat',
      'Timing.repeat.id',
      'Timing.repeat.extension',
      'Timing.repeat.count',
    ];
    expect(
      missingR4Elements(
        schema,
        'Timing',
        timing.map((path) => ({ path })),
        true
      )
    ).toEqual([]);
    expect(
      missingR4Elements(
        schema,
        'Timing',
        timing.map((path) => ({ path })),
        false
      )
    ).toEqual(['Timing.repeat.modifierExtension']);
  });
});
