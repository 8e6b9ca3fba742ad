import type { CodeSystem, PlanDefinition, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { compareStrings, indexEntry, packageIndex } from '../../../src/tools/fhir-package/index-file';

describe('indexEntry', () => {
  test('copies the searchable string properties of a StructureDefinition', () => {
    const sd: Resource = {
      resourceType: 'StructureDefinition',
      id: 're-condition',
      url: 'http://re-fhir.org/fhir/StructureDefinition/re-condition',
      version: '0.1.0',
      name: 'ReCondition',
      status: 'active',
      kind: 'resource',
      abstract: false,
      type: 'Condition',
    };
    expect(indexEntry('StructureDefinition-re-condition.json', sd)).toEqual({
      filename: 'StructureDefinition-re-condition.json',
      resourceType: 'StructureDefinition',
      id: 're-condition',
      url: 'http://re-fhir.org/fhir/StructureDefinition/re-condition',
      version: '0.1.0',
      kind: 'resource',
      type: 'Condition',
    });
  });

  test('copies content and supplements of a CodeSystem', () => {
    const cs: CodeSystem = {
      resourceType: 'CodeSystem',
      id: 're-answer-de',
      url: 'http://re-fhir.org/fhir/CodeSystem/re-answer-de',
      status: 'active',
      content: 'supplement',
      supplements: 'http://re-fhir.org/fhir/CodeSystem/re-answer',
    };
    expect(indexEntry('CodeSystem-re-answer-de.json', cs)).toEqual({
      filename: 'CodeSystem-re-answer-de.json',
      resourceType: 'CodeSystem',
      id: 're-answer-de',
      url: 'http://re-fhir.org/fhir/CodeSystem/re-answer-de',
      content: 'supplement',
      supplements: 'http://re-fhir.org/fhir/CodeSystem/re-answer',
    });
  });

  test('leaves out a type that is not a string (PlanDefinition.type is a CodeableConcept)', () => {
    const pd: PlanDefinition = {
      resourceType: 'PlanDefinition',
      id: 're-evaluation',
      status: 'active',
      type: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/plan-definition-type', code: 'eca-rule' }],
      },
    };
    expect(indexEntry('PlanDefinition-re-evaluation.json', pd)).toEqual({
      filename: 'PlanDefinition-re-evaluation.json',
      resourceType: 'PlanDefinition',
      id: 're-evaluation',
    });
  });

  test('refuses a resource without id', () => {
    expect(() => indexEntry('Patient-x.json', { resourceType: 'Patient' })).toThrow(
      'Patient-x.json: a packaged resource needs an id'
    );
  });
});

describe('packageIndex', () => {
  test('is index version 2 with entries sorted by file name whatever the input order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { maxLength: 8 }), (ids) => {
        const files = ids.map((id) => ({
          filename: `Basic-${id}.json`,
          resource: { resourceType: 'Basic', id } as Resource,
        }));
        const index = packageIndex(files);
        expect(index['index-version']).toBe(2);
        expect(index.files.map((f) => f.filename)).toEqual(files.map((f) => f.filename).sort(compareStrings));
        expect(packageIndex([...files].reverse())).toEqual(index);
      })
    );
  });
});
