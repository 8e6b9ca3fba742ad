import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import { implementationGuide } from '../../../src/tools/fhir-package/implementation-guide';

const profile: StructureDefinition = {
  resourceType: 'StructureDefinition',
  id: 're-condition',
  url: 'http://re-fhir.org/fhir/StructureDefinition/re-condition',
  name: 'ReCondition',
  title: 'RE Condition',
  description: 'A Condition.',
  status: 'active',
  kind: 'resource',
  abstract: false,
  type: 'Condition',
  derivation: 'constraint',
};
const valueSet: Resource = { resourceType: 'ValueSet', id: 're-rule', name: 'ReRule', status: 'active' };
const profiledExample: Resource = {
  resourceType: 'Condition',
  id: 'example-re',
  meta: { profile: ['http://re-fhir.org/fhir/StructureDefinition/re-condition|0.1.0'] },
  subject: { reference: 'Patient/p' },
};
const plainExample: Resource = {
  resourceType: 'QuestionnaireResponse',
  id: 'example-qr',
  meta: { profile: ['http://example.org/other-profile'] },
  status: 'completed',
};

describe('implementationGuide', () => {
  const guide = implementationGuide([
    { resource: plainExample, example: true },
    { resource: valueSet, example: false },
    { resource: profiledExample, example: true },
    { resource: profile, example: false },
  ]);

  test('carries the package identity, FHIR version and pinned dependsOn', () => {
    expect(guide).toMatchObject({
      resourceType: 'ImplementationGuide',
      id: 'org.refhir.re',
      url: 'http://re-fhir.org/fhir/ImplementationGuide/org.refhir.re',
      version: '0.1.0',
      name: 'ReFhir',
      status: 'active',
      experimental: false,
      date: '2026-11-27',
      publisher: 're-fhir',
      packageId: 'org.refhir.re',
      license: 'Apache-2.0',
      fhirVersion: ['4.0.1'],
      jurisdiction: [
        {
          coding: [
            { system: 'http://unstats.un.org/unsd/methods/m49/m49.htm', code: '001', display: 'World' },
          ],
        },
      ],
    });
    expect(guide.dependsOn).toEqual([
      {
        id: 'hl7_fhir_uv_sdc',
        uri: 'http://hl7.org/fhir/uv/sdc/ImplementationGuide/hl7.fhir.uv.sdc',
        packageId: 'hl7.fhir.uv.sdc',
        version: '4.0.0',
      },
      {
        id: 'hl7_fhir_uv_cpg',
        uri: 'http://hl7.org/fhir/uv/cpg/ImplementationGuide/hl7.fhir.uv.cpg',
        packageId: 'hl7.fhir.uv.cpg',
        version: '2.0.0',
      },
      {
        id: 'hl7_fhir_uv_crmi',
        uri: 'http://hl7.org/fhir/uv/crmi/ImplementationGuide/hl7.fhir.uv.crmi',
        packageId: 'hl7.fhir.uv.crmi',
        version: '1.0.0',
      },
      {
        id: 'hl7_fhir_uv_extensions_r4',
        uri: 'http://hl7.org/fhir/extensions/ImplementationGuide/hl7.fhir.uv.extensions',
        packageId: 'hl7.fhir.uv.extensions.r4',
        version: '5.2.0',
      },
    ]);
  });

  test('lists definitions, then examples, each sorted by reference, with the example kind', () => {
    expect(guide.definition?.resource).toEqual([
      {
        reference: { reference: 'StructureDefinition/re-condition' },
        name: 'RE Condition',
        description: 'A Condition.',
        exampleBoolean: false,
      },
      { reference: { reference: 'ValueSet/re-rule' }, name: 'ReRule', exampleBoolean: false },
      {
        reference: { reference: 'Condition/example-re' },
        exampleCanonical: 'http://re-fhir.org/fhir/StructureDefinition/re-condition',
      },
      { reference: { reference: 'QuestionnaireResponse/example-qr' }, exampleBoolean: true },
    ]);
  });

  test('gives a narrative that counts the listed resources', () => {
    expect(guide.text?.status).toBe('generated');
    expect(guide.text?.div).toContain('4 resources');
  });
});
