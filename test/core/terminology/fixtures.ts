import type { CodeSystem, ConceptMap, Resource, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';
import type { Clock } from '../../../src/core/types';

// Small, hand-written definitions that exercise every branch of the terminology module.

export const COLOURS = 'http://example.org/cs/colours';
export const SHAPES = 'http://example.org/cs/shapes';
export const PARTIAL = 'http://example.org/cs/partial';
export const SNOMED = 'http://snomed.info/sct';
export const SNOMED_EDITION = 'http://snomed.info/sct/900000000000207008/version/20220731';

/** Canonical URL of a fixture ValueSet. */
export const vs = (id: string): string => `http://example.org/vs/${id}`;

/** A clock fixed at one instant. */
export const fixedClock: Clock = () => new Date('2026-11-27T10:00:00.000Z');

export const colours: CodeSystem = {
  resourceType: 'CodeSystem',
  id: 'colours',
  url: COLOURS,
  version: '1.0.0',
  title: 'Colours',
  name: 'Colours',
  status: 'active',
  caseSensitive: true,
  content: 'complete',
  property: [
    { code: 'status', uri: 'http://hl7.org/fhir/concept-properties#status', type: 'code' },
    { code: 'notSelectable', uri: 'http://hl7.org/fhir/concept-properties#notSelectable', type: 'boolean' },
    { code: 'hex', type: 'string' },
    { code: 'family', type: 'Coding' },
  ],
  concept: [
    {
      code: 'red',
      display: 'Red',
      definition: 'The colour of blood.',
      designation: [{ language: 'fr', value: 'Rouge' }],
      property: [
        { code: 'hex', valueString: '#ff0000' },
        { code: 'family', valueCoding: { system: SHAPES, code: 'circle', display: 'Circle' } },
      ],
    },
    { code: 'green', display: 'Green' },
    {
      code: 'blue',
      display: 'Blue',
      concept: [{ code: 'light-blue', display: 'Light blue' }],
    },
    { code: 'old-grey', display: 'Old grey', property: [{ code: 'status', valueCode: 'retired' }] },
    { code: 'any-colour', display: 'Any colour', property: [{ code: 'notSelectable', valueBoolean: true }] },
  ],
};

export const shapes: CodeSystem = {
  resourceType: 'CodeSystem',
  id: 'shapes',
  url: SHAPES,
  version: '2',
  name: 'Shapes',
  status: 'active',
  caseSensitive: false,
  content: 'complete',
  concept: [
    { code: 'Circle', display: 'Circle' },
    { code: 'Square', display: 'Square', designation: [{ value: 'Quadrat', language: 'de' }] },
  ],
};

export const partial: CodeSystem = {
  resourceType: 'CodeSystem',
  id: 'partial',
  url: PARTIAL,
  version: '1',
  status: 'active',
  content: 'fragment',
  concept: [{ code: 'p1', display: 'P one' }],
};

/** A ValueSet with the given includes (and optional excludes / inactive flag). */
export function valueSet(
  id: string,
  include: ValueSetComposeInclude[],
  extra: Partial<NonNullable<ValueSet['compose']>> = {}
): ValueSet {
  return {
    resourceType: 'ValueSet',
    id,
    url: vs(id),
    version: '1',
    status: 'active',
    compose: { include, ...extra },
  };
}

export const snomedConcepts: ValueSetComposeInclude = {
  system: SNOMED,
  version: SNOMED_EDITION,
  concept: [
    { code: '24700007', display: 'Multiple sclerosis' },
    { code: '60389000', display: 'Paraplegia' },
  ],
};

export const valueSets: ValueSet[] = [
  valueSet('all-colours', [{ system: COLOURS }]),
  valueSet('warm', [
    { system: COLOURS, concept: [{ code: 'red' }, { code: 'green', display: 'Leaf green' }] },
  ]),
  valueSet('snomed', [snomedConcepts]),
  valueSet('union', [{ valueSet: [vs('warm')] }, { valueSet: [`${vs('snomed')}|1`] }]),
  valueSet('intersection', [{ valueSet: [vs('all-colours'), vs('warm')] }]),
  valueSet('system-and-import', [
    { system: COLOURS, concept: [{ code: 'red' }, { code: 'blue' }], valueSet: [vs('warm')] },
  ]),
  valueSet('no-blue', [{ system: COLOURS }], { exclude: [{ system: COLOURS, concept: [{ code: 'blue' }] }] }),
  valueSet('no-snomed', [{ valueSet: [vs('union')] }], { exclude: [{ system: SNOMED }] }),
  valueSet('active-only', [{ system: COLOURS }], { inactive: false }),
  valueSet('duplicates', [{ system: COLOURS, concept: [{ code: 'red' }] }, { valueSet: [vs('warm')] }]),
  valueSet('shapes', [{ system: SHAPES }]),
  valueSet('with-filter', [
    { system: COLOURS, filter: [{ property: 'concept', op: 'is-a', value: 'blue' }] },
  ]),
  valueSet('whole-snomed', [{ system: SNOMED }]),
  valueSet('whole-partial', [{ system: PARTIAL }]),
  valueSet('bad-code', [{ system: COLOURS, concept: [{ code: 'red' }, { code: 'purple' }] }]),
  valueSet('bad-version', [{ system: COLOURS, version: '9.9.9', concept: [{ code: 'red' }] }]),
  valueSet('missing-import', [{ valueSet: [vs('nowhere')] }]),
  valueSet('imports-broken', [
    { system: COLOURS, concept: [{ code: 'red' }] },
    { valueSet: [vs('with-filter')] },
  ]),
  valueSet('cycle-a', [{ system: COLOURS, concept: [{ code: 'red' }] }, { valueSet: [vs('cycle-b')] }]),
  valueSet('cycle-b', [{ valueSet: [vs('cycle-a')] }]),
  valueSet('self', [{ valueSet: [vs('self')] }]),
  valueSet('imports-cycle', [{ valueSet: [vs('cycle-b')] }]),
  {
    resourceType: 'ValueSet',
    id: 'stored',
    url: vs('stored'),
    version: '1',
    status: 'active',
    expansion: {
      timestamp: '2020-01-01T00:00:00Z',
      total: 2,
      contains: [
        { system: COLOURS, code: 'red', display: 'Red', contains: [{ system: COLOURS, code: 'green' }] },
      ],
    },
  },
  {
    resourceType: 'ValueSet',
    id: 'stored-page',
    url: vs('stored-page'),
    version: '1',
    status: 'active',
    expansion: {
      timestamp: '2020-01-01T00:00:00Z',
      total: 40,
      offset: 0,
      contains: [{ system: COLOURS, code: 'red' }],
    },
  },
  { resourceType: 'ValueSet', id: 'empty', url: vs('empty'), version: '1', status: 'active' },
];

export const conceptMap: ConceptMap = {
  resourceType: 'ConceptMap',
  id: 'colour-to-shape',
  url: 'http://example.org/cm/colour-to-shape',
  version: '1',
  status: 'active',
  group: [
    {
      source: COLOURS,
      sourceVersion: '1.0.0',
      target: SHAPES,
      targetVersion: '2',
      element: [
        {
          code: 'red',
          target: [{ code: 'Circle', display: 'Circle', equivalence: 'wider', comment: 'Roughly.' }],
        },
        { code: 'green', target: [{ equivalence: 'unmatched', comment: 'Green has no shape.' }] },
        {
          code: 'blue',
          target: [
            { code: 'Circle', equivalence: 'inexact', comment: 'Sometimes.' },
            { code: 'Square', equivalence: 'equivalent' },
          ],
        },
      ],
    },
    {
      source: COLOURS,
      target: SNOMED,
      element: [{ code: 'red', target: [{ code: '60389000', equivalence: 'disjoint' }] }],
      unmapped: { mode: 'provided' },
    },
  ],
};

/** Every fixture resource. */
export const fixtureResources: Resource[] = [colours, shapes, partial, ...valueSets, conceptMap];
