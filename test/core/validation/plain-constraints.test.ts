import fc from 'fast-check';
import { evalFhirPathTyped, parseFhirPath } from '@medplum/core';
import { ensureIndexed } from '../../../src/core/validation/definitions';
import { PLAIN_CONSTRAINTS } from '../../../src/core/validation/plain-constraints';
import { r4Definitions } from '../../helpers/validation';

/** The type each constraint is evaluated on in R4. */
const TYPES: Record<string, string> = {
  'ext-1': 'Extension',
  'qrs-1': 'QuestionnaireResponseItem',
  'rqg-1': 'RequestGroupAction',
  'dom-2': 'Condition',
  'dom-4': 'Condition',
  'dom-5': 'Condition',
};

// JSON values of the shapes these constraints read, with the odd cases mixed in.
const leaf = fc.oneof(
  fc.constantFrom('x', '', ' ', 0, 1.5, true, false, null),
  fc.constant({}),
  fc.constant([]),
  fc.constant({ url: 'http://e.example', valueString: 'v' }),
  fc.constant({ linkId: 'a' }),
  fc.constant({ reference: 'Patient/p' })
);
const member = fc.oneof(leaf, fc.array(leaf, { maxLength: 2 }));
const meta = fc.record(
  {
    versionId: fc.constant('1'),
    lastUpdated: fc.constant('2020-01-01T00:00:00Z'),
    security: fc.constant([{ code: 'x' }]),
    tag: fc.constant([{ code: 't' }]),
  },
  { requiredKeys: [] }
);
const containedResource = fc.record(
  {
    resourceType: fc.constant('Observation'),
    id: fc.constant('o'),
    meta: fc.oneof(meta, member),
    contained: fc.oneof(fc.constant([{ resourceType: 'Patient' }]), member),
    _id: fc.constant({ extension: [{ url: 'http://e.example', valueString: 'v' }] }),
  },
  { requiredKeys: ['resourceType'] }
);
const value = fc.record(
  {
    url: fc.constant('http://e.example'),
    extension: member,
    valueString: member,
    valueBoolean: member,
    valueCoding: member,
    _valueString: fc.constant({ extension: [{ url: 'http://e.example', valueString: 'v' }] }),
    answer: member,
    item: member,
    linkId: fc.constant('q'),
    resource: member,
    action: member,
    resourceType: fc.constant('Condition'),
    contained: fc.oneof(fc.array(containedResource, { maxLength: 3 }), member),
  },
  { requiredKeys: [] }
);

describe('plain constraints', () => {
  beforeAll(() => {
    ensureIndexed(r4Definitions(), [
      'Condition',
      'QuestionnaireResponse',
      'RequestGroup',
      'Observation',
      'Patient',
    ]);
  });

  test('each says "holds" only where Medplum\'s FHIRPath engine says so too (generated values)', () => {
    let certain = 0;
    fc.assert(
      fc.property(value, (v) => {
        const json = JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
        for (const [id, check] of PLAIN_CONSTRAINTS) {
          const [key, expression] = id.split('\u0000') as [string, string];
          if (check(json) !== true) {
            continue;
          }
          certain++;
          const typed = { type: TYPES[key]!, value: json };
          const result = evalFhirPathTyped(parseFhirPath(expression), [typed], {
            '%context': typed,
            '%resource': typed,
            '%rootResource': typed,
          });
          expect({ key, json, result: result.map((r) => r.value) }).toEqual({ key, json, result: [true] });
        }
      }),
      { numRuns: 2000 }
    );
    // The checks do answer, often: they are not declining everything.
    expect(certain).toBeGreaterThan(200);
  });
});
