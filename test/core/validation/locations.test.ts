import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { checkJsonRules } from '../../../src/core/validation/json-rules';
import { TreeRegistry } from '../../../src/core/validation/trees';
import type { Visit } from '../../../src/core/validation/walk';
import { walkResource } from '../../../src/core/validation/walk';
import { shippedProfiles } from '../../helpers/content';
import { testEngine } from '../../helpers/engine';
import type { Mutation } from '../../helpers/mutate';
import { mutate } from '../../helpers/mutate';
import { scenarios } from '../../helpers/scenarios';
import { r4Definitions } from '../../helpers/validation';

// Locations are built lazily, only when an issue asks for one (issue 13). Whatever the order in which
// they are asked for, each must name the value it belongs to: followed from the root, it leads there.

/** Follows a location (`Condition.code.coding[0].system`) from the resource; the first step is the root. */
function follow(resource: unknown, location: string): unknown {
  const steps = location.match(/\.[^.[]+|\[\d+\]/g) ?? [];
  expect(location.startsWith(`${(resource as Resource).resourceType}`)).toBe(true);
  let at: unknown = resource;
  for (const step of steps) {
    at = step.startsWith('[')
      ? (at as unknown[])[Number(step.slice(1, -1))]
      : (at as Record<string, unknown>)[step.slice(1)];
  }
  return at;
}

const trees = new TreeRegistry(r4Definitions(), shippedProfiles());
const golden: Resource[] = scenarios().flatMap((s) => {
  const evaluation = evaluateResponse(s.response, testEngine());
  return [s.response, ...(evaluation.bundle.entry ?? []).map((e) => e.resource as Resource)];
});

function visitsOf(resource: Resource): Visit[] {
  const visits: Visit[] = [];
  const tree = trees.type(resource.resourceType);
  if (tree) {
    walkResource(resource, tree, trees, (visit) => visits.push(visit));
  }
  return visits;
}

describe('lazy locations of the element walk', () => {
  test('every visit of every golden resource is located at its value, in walk order', () => {
    let count = 0;
    for (const resource of golden) {
      for (const visit of visitsOf(resource)) {
        expect(follow(resource, visit.location)).toBe(visit.value);
        count++;
      }
    }
    expect(count).toBeGreaterThan(1000);
  });

  test('the same in any order of asking, and on resources with contained resources', () => {
    const withContained = golden
      .filter((r) => r.resourceType === 'Condition')
      .slice(0, 2)
      .map((r) => ({ ...r, contained: golden.filter((o) => o.resourceType === 'Observation').slice(0, 2) }));
    const resources = [...golden, ...withContained];
    fc.assert(
      fc.property(fc.constantFrom(...resources), fc.infiniteStream(fc.nat()), (resource, picks) => {
        const visits = visitsOf(resource as Resource);
        const order = visits.map((_, i) => i);
        for (let i = order.length - 1; i > 0; i--) {
          const j = picks.next().value % (i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        for (const i of order) {
          expect(follow(resource, visits[i]!.location)).toBe(visits[i]!.value);
          expect(visits[i]!.location).toBe(visits[i]!.location); // Stable when asked again.
        }
      }),
      { numRuns: 40 }
    );
    // A contained resource's values carry their path below `contained[i]`.
    const nested = visitsOf(withContained[0] as Resource).filter((v) => v.resource !== v.rootResource);
    expect(nested.length).toBeGreaterThan(0);
    expect(nested.every((v) => v.location.startsWith('Condition.contained['))).toBe(true);
  });
});

describe('lazy locations of the JSON rules', () => {
  test('each empty array or object found is located at an empty value', () => {
    const seeds = golden.filter((r, i) => golden.findIndex((o) => o.resourceType === r.resourceType) === i);
    const mutation: fc.Arbitrary<Mutation> = fc.record({
      at: fc.nat(),
      op: fc.constantFrom('set', 'add'),
      value: fc.constantFrom({}, [], [{}], { a: [] }),
      name: fc.constantFrom('extension', 'x', 'note'),
    });
    let found = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (seed, m) => {
          const resource = mutate(seed, m);
          for (const i of checkJsonRules(resource)) {
            const value = follow(resource, i.expression![0]!);
            expect(typeof value === 'object' && value !== null && Object.keys(value).length === 0).toBe(true);
            found++;
          }
        }
      ),
      { numRuns: 200 }
    );
    expect(found).toBeGreaterThan(100);
  });
});
