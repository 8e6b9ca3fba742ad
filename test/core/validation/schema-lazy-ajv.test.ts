import Ajv from 'ajv';
import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import { createSchemaTier } from '../../../src/core/validation/schema';
import { WARM_TYPES } from '../../../src/http/app';
import { mutate } from '../../helpers/mutate';
import { createReferenceSchemaTier } from '../../helpers/schema-reference';
import { validationGolden } from '../../helpers/validation-golden';
import { r4Schema } from '../../helpers/validation';

/**
 * Issue 13 (start-up): the schema tier makes ajv and compiles a type's validator only when a resource
 * first fails the quick check, never in `warm()`. What it reports must not depend on when that
 * happens: each tier below is fresh and warmed as a pool worker is, and its issues are compared with
 * the oracle (ajv alone on every resource, test/helpers/schema-reference.ts), on invalid resources
 * met first, nested resources of types not compiled yet included.
 */

const oracle = createReferenceSchemaTier(r4Schema());
const golden = validationGolden().golden;

/** Counts ajv's compilations (by `getSchema` or `compile`) while `run` runs. */
function ajvCalls<T>(run: () => T): { value: T; calls: number } {
  const getSchema = jest.spyOn(Ajv.prototype, 'getSchema');
  const compile = jest.spyOn(Ajv.prototype, 'compile');
  try {
    const value = run();
    return { value, calls: getSchema.mock.calls.length + compile.mock.calls.length };
  } finally {
    getSchema.mockRestore();
    compile.mockRestore();
  }
}

function warmedTier(): ReturnType<typeof createSchemaTier> {
  const tier = createSchemaTier(r4Schema());
  tier.warm(WARM_TYPES);
  return tier;
}

describe('schema tier: ajv compiled on the first failure, not at warm-up', () => {
  test('making and warming the tier, and validating valid resources, compile nothing of ajv', () => {
    expect(golden.length).toBeGreaterThan(20);
    const { value, calls } = ajvCalls(() => {
      const tier = warmedTier();
      return golden.map((r) => tier.validate(r));
    });
    expect(calls).toBe(0);
    expect(value.every((issues) => issues.length === 0)).toBe(true);
  });

  test('the first invalid resource of a type compiles its validator and reports what ajv alone reports', () => {
    const bad: unknown[] = [
      { resourceType: 'QuestionnaireResponse', status: 'nope', item: [{ linkId: 7 }] },
      { resourceType: 'Condition', subject: { reference: 'Patient/1' }, onsetDateTime: '2024-13-01' },
      // A nested resource of a type with no validator yet, met inside another type's validator.
      {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ resource: { resourceType: 'Basic', code: {}, extra: 1 } }],
      },
      {
        resourceType: 'Parameters',
        parameter: [{ name: 'x', resource: { resourceType: 'Patient', gender: 3 } }],
      },
      { resourceType: 'NoSuchType' },
      [],
    ];
    const tier = warmedTier();
    for (const resource of bad) {
      const { value, calls } = ajvCalls(() => tier.validate(resource));
      expect(value).toEqual(oracle.validate(resource));
      if (resource !== bad[0]) {
        continue;
      }
      expect(value.length).toBeGreaterThan(0);
      expect(calls).toBeGreaterThan(0); // compiled now, on the first failure
    }
    // Compiled once: the same failure again compiles nothing.
    expect(ajvCalls(() => tier.validate(bad[0])).calls).toBe(0);
  });

  test('mutated golden resources met first by a fresh warmed tier: the issues of ajv alone (property)', () => {
    const seeds: Resource[] = golden.slice(0, 40);
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(
          fc.record({
            at: fc.nat(),
            op: fc.constantFrom('delete', 'set', 'add', 'duplicate'),
            value: fc.oneof(
              fc.string({ maxLength: 4 }),
              fc.integer(),
              fc.constant(null),
              fc.constant({}),
              fc.constantFrom({ resourceType: 'Basic', code: {} }, { resourceType: 'Observation' })
            ),
            name: fc.constantFrom('extension', 'id', 'status', 'contained', 'text', 'x'),
          }),
          { minLength: 1, maxLength: 3 }
        ),
        (seed, mutations) => {
          const resource = mutate(seed, mutations);
          expect(warmedTier().validate(resource)).toEqual(oracle.validate(resource));
        }
      ),
      { numRuns: 12 }
    );
  });
});
