import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import { evaluateFhirPath, isTrue } from '../../../src/core/fhirpath/fhirpath';
import { DOM3_EXPRESSION, dom3Work, unmatchedContained } from '../../../src/core/validation/dom3';
import { evaluableExpression } from '../../../src/core/validation/invariants';
import { TreeRegistry } from '../../../src/core/validation/trees';
import { createValidator } from '../../../src/core/validation/validator';
import { r4Definitions, r4Schema } from '../../helpers/validation';

const trees = new TreeRegistry(r4Definitions(), []);

/** dom-3 as fhirpath.js evaluates it in the invariant tier (the oracle). */
function dom3ByFhirPath(resource: Resource): boolean {
  return isTrue(
    evaluateFhirPath(
      evaluableExpression(DOM3_EXPRESSION),
      resource,
      { resource, rootResource: resource },
      resource.resourceType
    )
  );
}

function dom3ByCode(resource: Resource): boolean {
  const tree = trees.type(resource.resourceType)!;
  return unmatchedContained(resource as unknown as Record<string, unknown>, tree.root, trees).length === 0;
}

// Values that may or may not point at a contained resource (ids are drawn from a, b, c).
const pointer = fc.constantFrom('#a', '#b', '#c', '#', 'Patient/p', 'a', '#A');
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.option(arb, { nil: undefined, freq: 2 });

/** An extension putting a value where dom-3 does or does not look (a uri, a canonical, a reference, its url). */
const extension = fc.oneof(
  pointer.map((v) => ({ url: 'http://example.org/x', valueUri: v })),
  pointer.map((v) => ({ url: 'http://example.org/x', valueCanonical: v })),
  pointer.map((v) => ({ url: 'http://example.org/x', valueUrl: v })),
  pointer.map((v) => ({ url: 'http://example.org/x', valueString: v })),
  pointer.map((v) => ({ url: 'http://example.org/x', valueReference: { reference: v } })),
  pointer.map((v) => ({ url: v, valueBoolean: true }))
);

const containedObservation = fc.record(
  {
    resourceType: fc.constant('Observation'),
    id: maybe(fc.constantFrom('a', 'b', 'c')),
    status: fc.constant('final'),
    code: fc.constant({ text: 'x' }),
    subject: maybe(pointer.map((reference) => ({ reference }))),
    focus: maybe(
      fc.array(
        pointer.map((reference) => ({ reference })),
        { maxLength: 2 }
      )
    ),
    extension: maybe(fc.array(extension, { maxLength: 2 })),
    instantiatesCanonical: fc.constant(undefined),
  },
  { requiredKeys: ['resourceType', 'status', 'code'] }
);

const containedPlanDefinition = fc.record(
  {
    resourceType: fc.constant('PlanDefinition'),
    id: maybe(fc.constantFrom('a', 'b', 'c')),
    status: fc.constant('draft'),
    library: maybe(fc.array(pointer, { maxLength: 2 })),
    url: maybe(pointer),
  },
  { requiredKeys: ['resourceType', 'status'] }
);

const carePlan = fc
  .record(
    {
      contained: fc.array(fc.oneof(containedObservation, containedPlanDefinition), { maxLength: 4 }),
      instantiatesCanonical: maybe(fc.array(pointer, { maxLength: 2 })),
      instantiatesUri: maybe(fc.array(pointer, { maxLength: 2 })),
      _instantiatesUri: maybe(
        fc.array(
          fc.oneof(fc.constant(null), fc.record({ extension: fc.array(extension, { maxLength: 2 }) })),
          {
            maxLength: 2,
          }
        )
      ),
      supportingInfo: maybe(
        fc.array(
          pointer.map((reference) => ({ reference })),
          { maxLength: 3 }
        )
      ),
      extension: maybe(fc.array(extension, { maxLength: 2 })),
      activity: maybe(
        fc.array(
          fc.record({
            reference: maybe(pointer.map((reference) => ({ reference }))),
            outcomeReference: maybe(
              fc.array(
                pointer.map((reference) => ({ reference })),
                { maxLength: 2 }
              )
            ),
          }),
          { maxLength: 2 }
        )
      ),
    },
    { requiredKeys: ['contained'] }
  )
  .map(
    (parts) =>
      JSON.parse(
        JSON.stringify({
          resourceType: 'CarePlan',
          status: 'active',
          intent: 'plan',
          subject: { reference: 'Patient/p' },
          ...parts,
        })
      ) as Resource
  );

describe('dom-3 as plain code', () => {
  it('agrees with fhirpath.js on generated resources with contained resources', () => {
    fc.assert(
      fc.property(carePlan, (resource) => {
        expect(dom3ByCode(resource)).toBe(dom3ByFhirPath(resource));
      }),
      { numRuns: 400 }
    );
  });

  it('finds an unreferenced contained resource, and accepts a referenced or self-referring one', () => {
    const base = {
      resourceType: 'CarePlan',
      status: 'active',
      intent: 'plan',
      subject: { reference: 'Patient/p' },
    };
    const lonely = {
      ...base,
      contained: [{ resourceType: 'Observation', id: 'a', status: 'final', code: { text: 'x' } }],
    } as Resource;
    const referenced = { ...lonely, supportingInfo: [{ reference: '#a' }] } as Resource;
    const selfReferring = {
      ...base,
      contained: [
        {
          resourceType: 'Observation',
          id: 'a',
          status: 'final',
          code: { text: 'x' },
          focus: [{ reference: '#' }],
        },
      ],
    } as Resource;
    expect([dom3ByCode(lonely), dom3ByCode(referenced), dom3ByCode(selfReferring)]).toEqual([
      false,
      true,
      true,
    ]);
    expect([dom3ByFhirPath(lonely), dom3ByFhirPath(referenced), dom3ByFhirPath(selfReferring)]).toEqual([
      false,
      true,
      true,
    ]);
    expect(unmatchedContained(lonely as never, trees.type('CarePlan')!.root, trees)).toEqual(['a']);
  });

  it('does work linear in the body when validating contained resources (10 KB, 100 KB, 1 MB)', () => {
    const validator = createValidator({ definitions: r4Definitions(), schema: r4Schema() });
    const body = (n: number): Resource =>
      ({
        resourceType: 'Condition',
        subject: { reference: 'Patient/p' },
        code: { text: 'x' },
        contained: Array.from({ length: n }, (_, i) => ({
          resourceType: 'Observation',
          id: `o${i}`,
          status: 'final',
          code: { text: `observation ${i}` },
          subject: { reference: 'Patient/p' },
        })),
        // Every contained resource referenced but the last: dom-3 must still find that one.
        evidence: Array.from({ length: n - 1 }, (_, i) => ({ detail: [{ reference: `#o${i}` }] })),
      }) as Resource;
    const perByte: number[] = [];
    for (const n of [60, 600, 6000]) {
      const resource = body(n);
      const bytes = JSON.stringify(resource).length;
      dom3Work.visited = 0;
      const result = validator.validate(resource);
      expect(result.issues.map((i) => i.details?.text)).toEqual([
        expect.stringContaining('Constraint dom-3 not met'),
      ]);
      perByte.push(dom3Work.visited / bytes);
    }
    expect(JSON.stringify(body(6000)).length).toBeGreaterThan(1_000_000);
    // Work per byte stays flat: a quadratic check would grow it 10× per step.
    expect(perByte[1]! / perByte[0]!).toBeLessThan(1.5);
    expect(perByte[2]! / perByte[0]!).toBeLessThan(1.5);
  });
});
