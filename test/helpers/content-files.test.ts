import { findCodings, listContentPaths } from './content-files';

describe('findCodings', () => {
  test('finds Codings, CodeableConcept codings, answer options, quantities, extensions and contained resources', () => {
    const questionnaire = {
      resourceType: 'Questionnaire',
      text: {
        status: 'generated',
        div: '<div xmlns="http://www.w3.org/1999/xhtml">{"system":"x","code":"y"}</div>',
      },
      contained: [
        {
          resourceType: 'ValueSet',
          compose: {
            include: [{ system: 'http://s', version: '1', concept: [{ code: 'c', display: 'C' }] }],
          },
        },
      ],
      jurisdiction: [{ coding: [{ system: 'http://m49', code: '001', display: 'World' }] }],
      item: [
        {
          linkId: 'q',
          code: [{ system: 'http://loinc.org', code: '3160-9' }],
          extension: [
            { url: 'http://unit', valueCoding: { system: 'http://ucum', code: 'mL', display: 'mL' } },
          ],
          answerOption: [{ valueCoding: { system: 'http://a', code: 'yes', display: 'Yes', version: '2' } }],
          initial: [{ valueQuantity: { value: 1, system: 'http://ucum', code: 'mL', unit: 'millilitre' } }],
        },
      ],
    };
    expect(findCodings(questionnaire)).toEqual([
      {
        system: 'http://s',
        code: 'c',
        display: 'C',
        version: '1',
        path: 'Questionnaire.contained[0].compose.include[0].concept[0]',
      },
      {
        system: 'http://m49',
        code: '001',
        display: 'World',
        path: 'Questionnaire.jurisdiction[0].coding[0]',
      },
      { system: 'http://loinc.org', code: '3160-9', path: 'Questionnaire.item[0].code[0]' },
      {
        system: 'http://ucum',
        code: 'mL',
        display: 'mL',
        path: 'Questionnaire.item[0].extension[0].valueCoding',
      },
      {
        system: 'http://a',
        code: 'yes',
        display: 'Yes',
        version: '2',
        path: 'Questionnaire.item[0].answerOption[0].valueCoding',
      },
      { system: 'http://ucum', code: 'mL', path: 'Questionnaire.item[0].initial[0].valueQuantity' },
    ]);
  });

  test('finds ValueSet include and exclude concepts and ConceptMap sources, targets and dependencies', () => {
    const valueSet = {
      resourceType: 'ValueSet',
      compose: {
        include: [{ system: 'http://s', concept: [{ code: 'a' }] }, { valueSet: ['http://vs'] }],
        exclude: [{ system: 'http://s', version: '3', concept: [{ code: 'b', display: 'B' }] }],
      },
      expansion: { contains: [{ system: 'http://s', code: 'a', display: 'A' }] },
    };
    expect(findCodings(valueSet).map((c) => [c.path, c.code, c.version])).toEqual([
      ['ValueSet.compose.include[0].concept[0]', 'a', undefined],
      ['ValueSet.compose.exclude[0].concept[0]', 'b', '3'],
      ['ValueSet.expansion.contains[0]', 'a', undefined],
    ]);
    const conceptMap = {
      resourceType: 'ConceptMap',
      group: [
        {
          source: 'http://src',
          sourceVersion: '2021',
          target: 'http://tgt',
          element: [
            {
              code: 'x',
              display: 'X',
              target: [
                {
                  code: 'y',
                  display: 'Y',
                  equivalence: 'wider',
                  dependsOn: [{ property: 'p', system: 'http://d', value: 'v' }],
                },
                { equivalence: 'unmatched' },
              ],
            },
          ],
        },
      ],
    };
    expect(findCodings(conceptMap)).toEqual([
      {
        system: 'http://src',
        code: 'x',
        display: 'X',
        version: '2021',
        path: 'ConceptMap.group[0].element[0]',
      },
      { system: 'http://tgt', code: 'y', display: 'Y', path: 'ConceptMap.group[0].element[0].target[0]' },
      { system: 'http://d', code: 'v', path: 'ConceptMap.group[0].element[0].target[0].dependsOn[0]' },
    ]);
  });

  test('does not treat CodeSystem concept definitions, identifiers or type codes as codings', () => {
    const codeSystem = {
      resourceType: 'CodeSystem',
      url: 'http://cs',
      identifier: [{ system: 'urn:ietf:rfc:3986', value: 'urn:oid:1.2' }],
      concept: [
        {
          code: 'a',
          display: 'A',
          property: [{ code: 'p', valueCoding: { system: 'http://cs', code: 'b' } }],
        },
      ],
    };
    expect(findCodings(codeSystem)).toEqual([
      { system: 'http://cs', code: 'b', path: 'CodeSystem.concept[0].property[0].valueCoding' },
    ]);
    expect(
      findCodings({
        resourceType: 'StructureDefinition',
        snapshot: { element: [{ type: [{ code: 'Coding' }] }] },
      })
    ).toEqual([]);
  });
});

describe('listContentPaths', () => {
  test('lists the JSON files of valuesets/ and profiles/, sorted, without the FSH sources', () => {
    const paths = listContentPaths();
    expect(paths).toContain('valuesets/CodeSystem-re-rule.json');
    expect(paths).toEqual([...paths].sort());
    expect(
      paths.every((p) => /^(profiles|valuesets)\/.+\.json$/.test(p) && !p.startsWith('profiles/fsh/'))
    ).toBe(true);
  });
});
