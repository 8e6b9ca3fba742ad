import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import { checkJsonRules, MAX_JSON_DEPTH } from '../../../src/core/validation/json-rules';
import type { ElementNode, ElementTree } from '../../../src/core/validation/element-tree';
import type { Visit } from '../../../src/core/validation/walk';
import { walkResource } from '../../../src/core/validation/walk';
import type { WalkPlan } from '../../../src/core/validation/walk-plan';
import { createWalkPlan } from '../../../src/core/validation/walk-plan';
import { referenceCheckJsonRules } from '../../helpers/json-rules-reference';
import type { Mutation } from '../../helpers/mutate';
import { mutate } from '../../helpers/mutate';
import { nodeKey, validationGolden } from '../../helpers/validation-golden';
import { referenceWalkResource } from '../../helpers/walk-reference';

// Issue 13 cut the per-value cost of the invariant/binding walk and of the JSON-rules walk. The
// walks before that change are kept as oracles (test/helpers/*-reference.ts): the new ones must
// make the same visits, in the same order, with the same locations, values and resources, and the
// JSON rules must give the same issues, on golden and mutated resources (values set to undefined,
// keys named like Object.prototype members, deep and empty objects and arrays included).

const { trees, golden, claimed } = validationGolden();

type Walk = typeof walkResource;

/** Everything a walk shows its visitors, in order (values and resources compared by identity after). */
function record(walk: Walk, resource: Resource, tree: ElementTree, plan?: WalkPlan): unknown[][] {
  const seen: unknown[][] = [];
  const add = (kind: string, visit: Visit, definition?: ElementNode): void => {
    seen.push([
      kind,
      visit.location,
      nodeKey(visit.node, visit.type),
      definition ? nodeKey(definition, visit.type) : '',
      visit.value,
      visit.resource,
      visit.rootResource,
    ]);
  };
  walk(
    resource,
    tree,
    trees,
    (visit) => add('value', visit),
    (visit, definition) => add('object', visit, definition),
    plan
  );
  return seen;
}

function expectSameWalk(resource: Resource, tree: ElementTree, plan?: WalkPlan): number {
  const actual = record(walkResource, resource, tree, plan);
  const expected = record(referenceWalkResource as Walk, resource, tree, plan);
  expect(actual.map((v) => v.slice(0, 4))).toEqual(expected.map((v) => v.slice(0, 4)));
  // Same objects, not copies: one expectation for all (an expect per visit is slow on 10,000s).
  const differing = actual.flatMap((v, i) =>
    v.slice(4).some((x, j) => x !== expected[i]![j + 4]) ? [v.slice(0, 2)] : []
  );
  expect(differing).toEqual([]);
  return actual.length;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('delete', 'set', 'add', 'duplicate'),
  value: fc.oneof(
    fc.constant(undefined),
    fc.constant({}),
    fc.constant([]),
    fc.constant([{ url: 'http://example.org/x' }]),
    fc.string(),
    fc.integer(),
    fc.object()
  ),
  name: fc.oneof(
    fc.constantFrom('extension', 'contained', 'text', 'status', 'code', 'constructor', 'toString', '_status'),
    fc.string()
  ),
});

const resources: fc.Arbitrary<Resource> = fc
  .tuple(fc.constantFrom(...golden), fc.array(mutation, { maxLength: 4 }))
  .map(([seed, mutations]) => mutate(seed, mutations));

/** Plans as the invariant and binding tiers build them: acting at some of the nodes met. */
function plansFor(seed: number, tree?: ElementTree): WalkPlan {
  const acts = (definition: ElementNode, type: string): boolean =>
    (!tree || definition.tree === tree) && (nodeKey(definition, type).length * 31 + seed) % 7 === 0;
  return tree
    ? createWalkPlan(trees, { acts, nested: false, extensions: false, within: tree })
    : createWalkPlan(trees, { acts, nested: true, extensions: true });
}
const basePlans = [0, 1, 2, 3].map((seed) => plansFor(seed));

describe('walkResource against the walk before issue 13 round 2', () => {
  test('same visits on every golden resource: full walk, base plans, profile plans', () => {
    let visits = 0;
    for (const resource of golden) {
      const tree = trees.type(resource.resourceType)!;
      visits += expectSameWalk(resource, tree);
      for (const plan of basePlans) {
        visits += expectSameWalk(resource, tree, plan);
      }
      for (const profile of claimed(resource)) {
        const profileTree = trees.profile(profile);
        visits += expectSameWalk(resource, profileTree);
        visits += expectSameWalk(resource, profileTree, plansFor(5, profileTree));
      }
    }
    expect(visits).toBeGreaterThan(10000);
  });

  test('same visits on mutated resources', () => {
    fc.assert(
      fc.property(resources, fc.nat(3), (resource, which) => {
        const tree = trees.type(resource.resourceType)!;
        expectSameWalk(resource, tree);
        expectSameWalk(resource, tree, basePlans[which]);
        for (const profile of claimed(resource)) {
          const profileTree = trees.profile(profile);
          expectSameWalk(resource, profileTree, plansFor(which, profileTree));
        }
      }),
      { numRuns: 300 }
    );
  });

  test('a key present with an undefined value is visited, as before', () => {
    const condition = structuredClone(golden.find((r) => r.resourceType === 'Condition')!);
    (condition as unknown as Record<string, unknown>).extension = undefined;
    const tree = trees.type('Condition')!;
    const plan = createWalkPlan(trees, {
      acts: (definition) => definition.path === 'Condition.extension',
      nested: true,
      extensions: true,
    });
    const seen = record(walkResource, condition, tree, plan);
    expect(seen.map((v) => [v[0], v[1], v[4]])).toContainEqual(['value', 'Condition.extension', undefined]);
    expectSameWalk(condition, tree, plan);
  });
});

/** Any JSON-like value, with empty containers and undefined members likely. */
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(fc.string(), fc.constantFrom('constructor', 'toString', '__proto__')),
      tie('value'),
      {
        maxKeys: 4,
      }
    )
  ),
})).value;

describe('checkJsonRules against the walk before issue 13 round 2', () => {
  test('same issues on arbitrary JSON-like resources', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json, { maxKeys: 5 }), (fields) => {
        const resource = { resourceType: 'Basic', ...fields };
        expect(checkJsonRules(resource)).toEqual(referenceCheckJsonRules(resource));
      }),
      { numRuns: 500 }
    );
  });

  test('same issues on golden and mutated resources', () => {
    for (const resource of golden) {
      expect(checkJsonRules(resource)).toEqual(referenceCheckJsonRules(resource));
    }
    fc.assert(
      fc.property(resources, (resource) => {
        expect(checkJsonRules(resource)).toEqual(referenceCheckJsonRules(resource));
      }),
      { numRuns: 300 }
    );
  });

  test('same issues on objects with inherited or non-enumerable members (own enumerable keys only, as before)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), json, { maxKeys: 3 }),
        fc.dictionary(fc.string(), json, { maxKeys: 3 }),
        fc.dictionary(fc.string(), json, { maxKeys: 2 }),
        (own, inherited, hidden) => {
          const odd = Object.create(inherited) as Record<string, unknown>;
          Object.assign(odd, own);
          for (const [key, value] of Object.entries(hidden)) {
            Object.defineProperty(odd, key, { value, enumerable: false });
          }
          const resource = { resourceType: 'Basic', odd, list: [odd, {}] };
          expect(checkJsonRules(resource)).toEqual(referenceCheckJsonRules(resource));
        }
      ),
      { numRuns: 300 }
    );
  });

  test('same issue at the depth limit, with primitives and empty containers at the bottom', () => {
    for (const leaf of ['x', 1, null, {}, [], [[]], { a: {} }]) {
      for (const levels of [MAX_JSON_DEPTH - 2, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1]) {
        let value: unknown = leaf;
        for (let i = 0; i < levels; i++) {
          value = i % 2 === 0 ? [value] : { v: value };
        }
        const resource = { resourceType: 'Basic', v: value };
        const issues = checkJsonRules(resource);
        expect(issues).toEqual(referenceCheckJsonRules(resource));
      }
    }
  });
});
