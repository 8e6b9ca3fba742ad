import fc from 'fast-check';
import { compile } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { evaluableExpression } from '../../../src/core/validation/invariants';
import { plainConstraint } from '../../../src/core/validation/plain-constraints';
import { TreeRegistry } from '../../../src/core/validation/trees';
import { r4Definitions } from '../../helpers/validation';

// The invariant tier answers con-4 and tim-9 by their plain-constraints.ts check where it says
// "holds" (issue 13). Those checks are proven against Medplum's engine; this tier evaluates with
// fhirpath.js, so here each "holds" is held to fhirpath.js's own answer on generated values.

const trees = new TreeRegistry(r4Definitions(), []);

function r4Constraint(type: string, path: string, key: string): string {
  const node = trees.type(type)!.byPath.get(path)!;
  return node.constraints.find((c) => c.key === key)!.expression;
}

const ext = { extension: [{ url: 'http://e.example', valueString: 'v' }] };
const odd = fc.constantFrom<unknown>(undefined, null, '', 3, [], {}, [{}]);
const coding = fc.record(
  {
    system: fc.constantFrom(
      'http://terminology.hl7.org/CodeSystem/condition-clinical',
      'http://example.org',
      undefined
    ),
    code: fc.constantFrom('active', 'resolved', 'remission', 'inactive', 'recurrence', undefined),
  },
  { requiredKeys: [] }
);
/** A Condition with no abatement, or one of its kinds (a primitive extension included). */
const abatement = fc.constantFrom<Record<string, unknown>>(
  {},
  {},
  { abatementDateTime: '2020-01-01' },
  { abatementString: 'gone' },
  { abatementAge: { value: 3, unit: 'a' } },
  { abatementDateTime: '2020-01-01', _abatementDateTime: ext },
  { abatementBoolean: undefined }
);
const condition = fc
  .tuple(
    abatement,
    fc.oneof(
      fc.record({ coding: fc.oneof(fc.array(coding, { maxLength: 3 }), odd) }, { requiredKeys: [] }),
      odd
    )
  )
  .map(([a, clinicalStatus]) => ({
    resourceType: 'Condition',
    ...a,
    ...(clinicalStatus === undefined ? {} : { clinicalStatus }),
    subject: { reference: 'Patient/p' },
  }));
const repeat = fc.oneof(
  fc.record(
    {
      offset: fc.oneof(fc.constantFrom(0, 30), odd),
      _offset: fc.constant(ext),
      when: fc.oneof(fc.array(fc.constantFrom('C', 'CM', 'ACM', 'MORN', 'HS'), { maxLength: 3 }), odd),
      frequency: fc.constant(1),
      period: fc.constant(1),
      periodUnit: fc.constant('d'),
    },
    { requiredKeys: [] }
  ),
  odd
);

describe('con-4 and tim-9: a plain "holds" is what fhirpath.js answers', () => {
  const cases: [string, string, string, string, fc.Arbitrary<unknown>, (v: unknown) => unknown][] = [
    ['con-4', 'Condition', 'Condition', 'Condition', condition, (v) => v],
    ['tim-9', 'Timing', 'Timing.repeat', 'Timing.repeat', repeat, (v) => v],
  ];
  test.each(cases)('%s', (key, type, path, base, values) => {
    const expression = r4Constraint(type, path, key);
    const plain = plainConstraint(key, expression);
    // The shipped R4 definitions carry exactly the text the plain check is keyed by.
    expect(plain).toBeDefined();
    const evaluate = compile({ base, expression: evaluableExpression(expression) }, r4);
    let holds = 0;
    let declined = 0;
    fc.assert(
      fc.property(values, (value) => {
        if (plain!(value) === true) {
          holds++;
          expect(evaluate(value as object)).toEqual([true]);
        } else {
          declined++;
        }
      }),
      { numRuns: 100 }
    );
    expect(holds).toBeGreaterThan(0);
    expect(declined).toBeGreaterThan(0);
  });
});
