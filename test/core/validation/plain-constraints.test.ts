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
  'con-2': 'ConditionEvidence',
  'obs-3': 'ObservationReferenceRange',
  'obs-6': 'Observation',
  'obs-7': 'Observation',
  'prr-1': 'ServiceRequest',
  'tim-1': 'TimingRepeat',
  'tim-2': 'TimingRepeat',
  'tim-4': 'TimingRepeat',
  'tim-5': 'TimingRepeat',
  'tim-6': 'TimingRepeat',
  'tim-7': 'TimingRepeat',
  'tim-8': 'TimingRepeat',
  'tim-9': 'TimingRepeat',
  'tim-10': 'TimingRepeat',
  'con-4': 'Condition',
  'con-5': 'Condition',
  'cpl-3': 'CarePlanActivity',
  'inv-1': 'Task',
  're-con-1': 'Condition',
  're-cpl-1': 'CarePlan',
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

// Keys read by the constraints Medplum's engine evaluated most often (con-2, obs-*, tim-*, …).
const number = fc.oneof(fc.constantFrom(0, -1, 2.5, -0.5, '1', ''), member);
const text = fc.oneof(fc.constantFrom('d', '', ' ', 3), member);
const statusConcept = fc.oneof(
  member,
  fc.record(
    {
      coding: fc.oneof(
        member,
        fc.array(
          fc.record(
            {
              system: fc.constantFrom(
                'http://terminology.hl7.org/CodeSystem/condition-ver-status',
                'http://terminology.hl7.org/CodeSystem/condition-clinical'
              ),
              code: fc.constantFrom('entered-in-error', 'confirmed', 'active', 'resolved', '', 1),
              _code: fc.constant({ extension: [{ url: 'http://e.example', valueString: 'v' }] }),
            },
            { requiredKeys: [] }
          ),
          { maxLength: 2 }
        )
      ),
    },
    { requiredKeys: [] }
  )
);
const withDetail = fc.record(
  { detail: member, reference: member, code: member, _detail: fc.constant({ id: 'x' }) },
  { requiredKeys: [] }
);
const more = fc.record(
  {
    code: member,
    detail: member,
    low: member,
    high: member,
    text,
    dataAbsentReason: member,
    valueQuantity: member,
    valueString: text,
    value: member,
    component: fc.oneof(member, fc.constant([{ code: { coding: [{ code: 'c' }] }, valueString: 'v' }])),
    orderDetail: member,
    duration: number,
    durationUnit: text,
    durationMax: number,
    period: number,
    periodUnit: text,
    periodMax: number,
    count: number,
    countMax: number,
    offset: number,
    when: fc.oneof(member, fc.constant(['C']), fc.constant(['MORN'])),
    timeOfDay: fc.oneof(member, fc.constant(['08:00:00'])),
    abatementDateTime: text,
    abatementString: text,
    clinicalStatus: statusConcept,
    verificationStatus: statusConcept,
    evidence: fc.oneof(member, fc.array(withDetail, { maxLength: 2 })),
    activity: fc.oneof(member, fc.array(withDetail, { maxLength: 2 })),
    reference: member,
    lastModified: fc.constantFrom('2020-01-01T00:00:00Z', '2019-01-01', ''),
    authoredOn: fc.constantFrom('2020-01-01T00:00:00Z', '2021-01-01', ''),
    _period: fc.constant({ id: 'x' }),
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
      'ServiceRequest',
      'CarePlan',
      'Task',
    ]);
  });

  test('each says "holds" only where Medplum\'s FHIRPath engine says so too (generated values)', () => {
    let certain = 0;
    const answered = new Set<string>();
    fc.assert(
      fc.property(fc.oneof(value, more), (v) => {
        const json = JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
        for (const [id, check] of PLAIN_CONSTRAINTS) {
          const [key, expression] = id.split('\u0000') as [string, string];
          if (check(json) !== true) {
            continue;
          }
          certain++;
          answered.add(key);
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
    expect([...answered].sort()).toEqual(Object.keys(TYPES).sort());
  });
});
