import fc from 'fast-check';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { createBindingTier } from '../../../src/core/validation/bindings';
import type { ElementNode } from '../../../src/core/validation/element-tree';
import type { MemberOf } from '../../../src/core/validation/types';
import type { Visit } from '../../../src/core/validation/walk';
import { referenceBindingCheck } from '../../helpers/binding-check-reference';
import { TreeRegistry } from '../../../src/core/validation/trees';
import { r4Definitions } from '../../helpers/validation';

// The binding check at one value lost its per-value closure and arrays (issue 13); the check as it
// was is the oracle (test/helpers/binding-check-reference.ts): same issues, in the same order, and
// the same questions to `memberOf`, in the same order, for any value under any binding.

const trees = new TreeRegistry(r4Definitions(), []);

/** Membership that answers by the code's first character: a member, not one, or unknown. */
function membership(asked: string[]): MemberOf {
  return (valueSet, system, code) => {
    asked.push(`${valueSet} ${String(system)} ${code}`);
    const c = code.charCodeAt(0) % 3;
    return c === 0 ? true : c === 1 ? false : undefined;
  };
}

const anyValue = fc.oneof(
  fc.string({ maxLength: 3 }),
  fc.integer(),
  fc.constant(null),
  fc.constant(undefined)
);
const coding = fc.oneof(
  fc.record(
    {
      system: fc.oneof(fc.constantFrom('http://a', 'http://b'), anyValue),
      code: fc.oneof(fc.string({ maxLength: 3 }), anyValue),
    },
    { requiredKeys: [] }
  ),
  anyValue
);
const value = fc.oneof(
  anyValue,
  coding,
  fc.record(
    { coding: fc.oneof(fc.array(coding, { maxLength: 4 }), anyValue), text: fc.string() },
    { requiredKeys: [] }
  ),
  fc.array(coding, { maxLength: 2 })
);
// Mostly a required binding with a ValueSet (where the check acts), sometimes not.
const binding = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ strength: 'required', valueSet: 'http://vs|4.0.1' }) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        strength: fc.constantFrom('required', 'extensible', 'preferred'),
        valueSet: fc.constantFrom('http://vs|4.0.1', '', 'http://other'),
      },
      { requiredKeys: ['strength'] }
    ),
  }
);

function visitOf(node: ElementNode, type: string, v: unknown): Visit {
  const resource = { resourceType: 'Basic' } as Resource;
  return { node, type, value: v, location: 'Basic.code', resource, rootResource: resource };
}

describe('the binding check at one value, against the check before issue 13 round 5', () => {
  test('same issues and the same membership questions, in order, for any value, type and binding', () => {
    fc.assert(
      fc.property(
        value,
        fc.constantFrom('code', 'Coding', 'CodeableConcept', 'string'),
        binding,
        (v, type, b) => {
          const node = { binding: b } as unknown as ElementNode;
          const askedNew: string[] = [];
          const askedOld: string[] = [];
          const tier = createBindingTier(trees, membership(askedNew));
          const actual: OperationOutcomeIssue[] = [];
          const expected: OperationOutcomeIssue[] = [];
          tier.check(visitOf(node, type, v), actual);
          referenceBindingCheck(membership(askedOld), visitOf(node, type, v), expected);
          expect(actual).toEqual(expected);
          expect(askedNew).toEqual(askedOld);
        }
      ),
      { numRuns: 200 }
    );
  });

  test('every outcome is met: member, not a member, unknown, no coding', () => {
    const node = { binding: { strength: 'required', valueSet: 'http://vs' } } as unknown as ElementNode;
    const out: OperationOutcomeIssue[] = [];
    const tier = createBindingTier(trees, membership([]));
    // '0' is a member (48 % 3), '1' is not (49 % 3), '2' unknown (50 % 3).
    for (const [type, v] of [
      ['code', '0'],
      ['code', '1'],
      ['code', '2'],
      ['Coding', { system: 'http://a', code: '1' }],
      ['CodeableConcept', { coding: [{ code: '1' }, { system: 'http://b', code: '4' }] }],
      ['CodeableConcept', { coding: [{ code: '1' }, { code: '2' }] }],
      ['CodeableConcept', { coding: [{ code: '1' }, { code: '0' }] }],
      ['CodeableConcept', { text: 'no coding' }],
    ] as const) {
      tier.check(visitOf(node, type, v), out);
    }
    expect(out.map((i) => `${i.severity} ${i.details?.text}`)).toEqual([
      'error Code "1" is not in the required ValueSet http://vs',
      'information Required binding to http://vs could not be checked: the ValueSet is not available',
      'error Code http://a#1 is not in the required ValueSet http://vs',
      'error None of the codings (#1, http://b#4) is in the required ValueSet http://vs',
      'information Required binding to http://vs could not be checked: the ValueSet is not available',
      'error No coding from the required ValueSet http://vs',
    ]);
  });
});
