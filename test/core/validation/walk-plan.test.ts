import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import { evaluate } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { observeFhirPath } from '../../../src/core/fhirpath/fhirpath';
import { createBindingTier } from '../../../src/core/validation/bindings';
import type { ElementNode, ElementTree } from '../../../src/core/validation/element-tree';
import { createInvariantTier } from '../../../src/core/validation/invariants';
import { walkActing, walkResource } from '../../../src/core/validation/walk';
import type { WalkPlan } from '../../../src/core/validation/walk-plan';
import { createWalkPlan } from '../../../src/core/validation/walk-plan';
import type { Mutation } from '../../helpers/mutate';
import { mutate } from '../../helpers/mutate';
import { r4Membership } from '../../helpers/validation';
import { nodeKey, validationGolden } from '../../helpers/validation-golden';

// Walk plans (issue 13) let the invariant and binding tiers skip the subtrees where they cannot
// act. The old path, a walk of every value, is the oracle: for any check, a planned walk must meet
// every value where the check acts, in the same order, at the same location; and each tier must
// give the same issues with plans on and off, on every golden resource and on mutated ones.

const { profiles, trees, golden, claimed } = validationGolden();
const extensionUrls = profiles.filter((p) => p.type === 'Extension' && p.url).map((p) => p.url!);

/** Every `(definition, type)` the full walk meets on the golden resources, base and profile trees. */
const met = new Set<string>();
for (const resource of golden) {
  for (const tree of [
    trees.type(resource.resourceType)!,
    ...claimed(resource).map((p) => trees.profile(p)),
  ]) {
    walkResource(resource, tree, trees, (visit) => met.add(nodeKey(visit.node, visit.type)));
  }
}
const pool = [...met].sort();

type Acts = (definition: ElementNode, type: string) => boolean;

/** What a check acting per `acts` sees on a walk: each value (and object pass) where it acts. */
function acting(resource: Resource, tree: ElementTree, acts: Acts, plan?: WalkPlan): unknown[] {
  const seen: unknown[] = [];
  walkResource(
    resource,
    tree,
    trees,
    (visit) => {
      if (acts(visit.node, visit.type)) {
        seen.push(['value', visit.location, nodeKey(visit.node, visit.type), visit.value, visit.resource]);
      }
    },
    (visit, definition) => {
      if (acts(definition, visit.type)) {
        seen.push(['object', visit.location, nodeKey(definition, visit.type)]);
      }
    },
    plan
  );
  return seen;
}

/**
 * What {@link walkActing} shows its visitors, in the format of {@link acting}: it must equal what a
 * planned `walkResource` shows a check that acts where the plan does.
 */
function actingWalk(resource: Resource, tree: ElementTree, plan: WalkPlan): unknown[] {
  const seen: unknown[] = [];
  walkActing(
    resource,
    tree,
    plan,
    (visit) => {
      seen.push(['value', visit.location, nodeKey(visit.node, visit.type), visit.value, visit.resource]);
    },
    (visit, definition) => {
      seen.push(['object', visit.location, nodeKey(definition, visit.type)]);
    }
  );
  return seen;
}

/** walkActing equals the planned walk filtered by where the plan acts (which equals the full walk's, above); returns the visits. */
function expectSameActing(resource: Resource, tree: ElementTree, plan: WalkPlan): number {
  const actual = actingWalk(resource, tree, plan);
  const acts: Acts = (definition, type) => plan.acts(definition, type);
  const expected = acting(resource, tree, acts, plan);
  expect(actual).toEqual(expected);
  // Values and resources are the very objects, not copies.
  expect(
    actual.flatMap((v, i) =>
      (v as unknown[]).slice(3).some((x, j) => x !== (expected[i] as unknown[])[j + 3]) ? [i] : []
    )
  ).toEqual([]);
  return actual.length;
}

/** Values that make mutations reach what the plans must not skip. */
const tricky: unknown[] = [
  ...extensionUrls.flatMap((url) => [
    { url, valueCoding: { system: 'http://example.org/x', code: 'not-a-member' } },
    [{ url, valueCoding: { system: 'http://example.org/x', code: 'not-a-member' } }],
    { url, valueString: 'x' },
    { url, extension: [{ url: 'inner', valueTiming: { repeat: { offset: 5, when: ['C'] } } }] },
  ]),
  { url: 'http://example.org/unknown', valueTiming: { repeat: { offset: 5, when: ['CM'] } } },
  { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><script>x</script></div>' },
  { status: 'nonsense', div: '<div xmlns="http://www.w3.org/1999/xhtml">  </div>' },
  [{ resourceType: 'Observation', id: 'c1', status: 'bogus', code: { text: 'x' } }],
  [{ resourceType: 'Condition', id: 'c2', abatementString: 'x', subject: { reference: 'Patient/1' } }],
  { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'banana' }] },
  'not-a-code',
];

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('delete', 'set', 'add', 'duplicate'),
  value: fc.oneof(fc.constantFrom(...tricky), fc.string(), fc.integer(), fc.object()),
  name: fc.oneof(
    fc.constantFrom(
      'extension',
      'modifierExtension',
      'contained',
      'text',
      'status',
      'clinicalStatus',
      'valueTiming',
      'valueCoding',
      'abatementString'
    ),
    fc.string()
  ),
});

/** A golden resource, changed by up to three mutations. */
const resources: fc.Arbitrary<Resource> = fc
  .tuple(fc.constantFrom(...golden), fc.array(mutation, { maxLength: 3 }))
  .map(([seed, mutations]) => mutate(seed, mutations));

describe('walk plans', () => {
  test('the golden resources cover many element types', () => {
    expect(golden.length).toBeGreaterThan(100);
    expect(pool.length).toBeGreaterThan(200);
    expect(extensionUrls.length).toBeGreaterThan(0);
    expect(golden.filter((r) => r.resourceType === 'Bundle').length).toBeGreaterThan(5);
  });

  test('a planned walk meets every value where a check acts, in order (base trees, nested resources, extensions)', () => {
    fc.assert(
      fc.property(
        fc.subarray(pool, { minLength: 1, maxLength: 6 }),
        fc.array(resources, { minLength: 1, maxLength: 4 }),
        (chosen, sample) => {
          const wanted = new Set(chosen);
          const acts: Acts = (definition, type) => wanted.has(nodeKey(definition, type));
          const plan = createWalkPlan(trees, { acts, nested: true, extensions: true });
          for (const resource of sample) {
            const tree = trees.type(resource.resourceType)!;
            expect(acting(resource, tree, acts, plan)).toEqual(acting(resource, tree, acts));
            expectSameActing(resource, tree, plan);
          }
        }
      ),
      { numRuns: 200 }
    );
  });

  test('a planned walk meets every value where a check acts by type alone (every Coding, every Timing…)', () => {
    const types = [...new Set(pool.map((k) => k.split('|')[2]!))];
    // Four output Bundles (every output resource of their scenarios, nested) and four responses.
    const sample = [
      ...golden.filter((r) => r.resourceType === 'Bundle').slice(0, 4),
      ...golden.filter((r) => r.resourceType === 'QuestionnaireResponse').slice(0, 4),
    ];
    for (const type of types) {
      const acts: Acts = (_definition, at) => at === type;
      const plan = createWalkPlan(trees, { acts, nested: true, extensions: true });
      for (const resource of sample) {
        const tree = trees.type(resource.resourceType)!;
        expect(acting(resource, tree, acts, plan)).toEqual(acting(resource, tree, acts));
        expectSameActing(resource, tree, plan);
      }
    }
    expect(types.length).toBeGreaterThan(20);
  });

  test("a profile pass's plan (within its own tree) meets every value of that tree where it acts", () => {
    const seeds = golden.filter((r) => claimed(r).length > 0);
    expect(seeds.length).toBeGreaterThan(20);
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { maxLength: 3 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (seed, mutations, share) => {
          const resource = mutate(seed, mutations);
          const tree = trees.profile(claimed(seed)[0]!);
          const own = [...tree.byPath.values()];
          const wanted = new Set(own.filter((_, i) => (i * 7919) % 101 < share * 20));
          const acts: Acts = (definition) => definition.tree === tree && wanted.has(definition);
          const plan = createWalkPlan(trees, { acts, nested: false, extensions: false, within: tree });
          expect(acting(resource, tree, acts, plan)).toEqual(acting(resource, tree, acts));
          expectSameActing(resource, tree, plan);
        }
      ),
      { numRuns: 150 }
    );
  });

  test('a plan skips what no check needs: a Coding without extensions has none of its values visited', () => {
    const acts: Acts = (definition) => definition.path === 'Narrative.div';
    const plan = createWalkPlan(trees, { acts, nested: true, extensions: true });
    const condition = golden.find((r) => r.resourceType === 'Condition')!;
    const visited: string[] = [];
    walkResource(
      condition,
      trees.type('Condition')!,
      trees,
      (v) => visited.push(v.location),
      undefined,
      plan
    );
    expect(visited).toContain('Condition.text.div');
    expect(visited.some((l) => /\.coding\[\d+\]\.(system|code|display)$/.test(l))).toBe(false);
    const all: string[] = [];
    walkResource(condition, trees.type('Condition')!, trees, (v) => all.push(v.location));
    expect(visited.length).toBeLessThan(all.length / 2);
  });
});

describe('walkActing (the walk the tiers run)', () => {
  /** The plans the invariant and binding tiers build, over every golden resource's base and profile trees. */
  test('shows exactly the visits of the planned walk where the plan acts, on every golden resource', () => {
    const tiers = [
      (definition: ElementNode, type: string) =>
        definition.binding?.strength === 'required' && ['code', 'Coding', 'CodeableConcept'].includes(type),
      (definition: ElementNode) => definition.constraints.some((c) => c.severity === 'error'),
      (definition: ElementNode) => definition.path.endsWith('.div') || definition.path.endsWith('.extension'),
    ];
    let visits = 0;
    for (const acts of tiers) {
      const plan = createWalkPlan(trees, { acts, nested: true, extensions: true });
      for (const resource of golden) {
        visits += expectSameActing(resource, trees.type(resource.resourceType)!, plan);
        for (const profile of claimed(resource)) {
          const tree = trees.profile(profile);
          visits += expectSameActing(resource, tree, plan);
          const within = createWalkPlan(trees, { acts, nested: false, extensions: false, within: tree });
          visits += expectSameActing(resource, tree, within);
        }
      }
    }
    expect(visits).toBeGreaterThan(5000);
  });

  test('the same on mutated resources (extensions, contained, Bundle entries, _field primitives, wrong types)', () => {
    const typed =
      (type: string): Acts =>
      (_definition, at) =>
        at === type;
    const plans = [
      'Coding',
      'Extension',
      'Narrative',
      'code',
      'Reference',
      'Resource',
      'BackboneElement',
    ].map((type) => createWalkPlan(trees, { acts: typed(type), nested: true, extensions: true }));
    const named = fc.oneof(
      fc.constantFrom('_status', '_id', 'contained', 'entry', 'resource', 'extension'),
      fc.string()
    );
    fc.assert(
      fc.property(
        fc
          .tuple(
            fc.constantFrom(...golden),
            fc.array(
              fc.record({
                at: fc.nat(),
                op: fc.constantFrom('delete', 'set', 'add', 'duplicate'),
                value: fc.oneof(
                  fc.constantFrom(...tricky),
                  fc.constant({ extension: [{ url: extensionUrls[0]!, valueString: 'x' }] }),
                  fc.string(),
                  fc.object()
                ),
                name: named,
              }) as fc.Arbitrary<Mutation>,
              { maxLength: 4 }
            )
          )
          .map(([seed, mutations]) => mutate(seed, mutations)),
        fc.nat(plans.length - 1),
        (resource, which) => {
          const tree = trees.type(resource.resourceType);
          if (tree) {
            expectSameActing(resource, tree, plans[which]!);
          }
        }
      ),
      { numRuns: 300 }
    );
  });

  test("follows each object's own key order when objects of one type alternate key orders", () => {
    const plan = createWalkPlan(trees, { acts: () => true, nested: true, extensions: true });
    /** The same resource with every object's keys in reverse order (the last key order a step saw changes each time). */
    const reversed = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reversed)
        : typeof value === 'object' && value !== null
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, reversed(v)])
            )
          : value;
    for (const resource of golden.slice(0, 40)) {
      const tree = trees.type(resource.resourceType)!;
      for (const variant of [
        resource,
        reversed(resource) as Resource,
        resource,
        reversed(resource) as Resource,
      ]) {
        expectSameActing(variant, tree, plan);
      }
    }
  });

  test('skips what does not act: a Condition is shown only its Narrative div', () => {
    const plan = createWalkPlan(trees, {
      acts: (d) => d.path === 'Narrative.div',
      nested: true,
      extensions: true,
    });
    const condition = golden.find((r) => r.resourceType === 'Condition' && r.text)!;
    expect(actingWalk(condition, trees.type('Condition')!, plan).map((v) => (v as unknown[])[1])).toEqual([
      'Condition.text.div',
    ]);
  });
});

describe('tiers with and without walk plans', () => {
  const planned = {
    invariants: createInvariantTier(trees),
    bindings: createBindingTier(trees, r4Membership()),
  };
  const full = {
    invariants: createInvariantTier(trees, { plans: false }),
    bindings: createBindingTier(trees, r4Membership(), { plans: false }),
  };

  function expectSameIssues(resource: Resource): void {
    expect(planned.invariants.validateBase(resource)).toEqual(full.invariants.validateBase(resource));
    expect(planned.bindings.validate(resource)).toEqual(full.bindings.validate(resource));
    for (const profile of claimed(resource)) {
      expect(planned.invariants.validateProfile(resource, profile)).toEqual(
        full.invariants.validateProfile(resource, profile)
      );
      expect(planned.bindings.validate(resource, profile)).toEqual(full.bindings.validate(resource, profile));
    }
  }

  test('give the same issues on every golden input and output', () => {
    for (const resource of golden) {
      expectSameIssues(resource);
    }
  });

  test('give the same issues on mutated resources, and find what the mutations break', () => {
    let found = 0;
    fc.assert(
      fc.property(resources, (resource) => {
        expectSameIssues(resource);
        const base = full.invariants.validateBase(resource);
        found += base.structural.length + base.conformance.length + full.bindings.validate(resource).length;
      }),
      { numRuns: 300 }
    );
    expect(found).toBeGreaterThan(0); // The mutations do reach checks, so the comparison is not empty.
  });

  test('txt-1 and txt-2 share one htmlChecks() evaluation and still give one issue each, as fhirpath.js', () => {
    const condition = golden.find((r) => r.resourceType === 'Condition')!;
    for (const div of [
      '<div xmlns="http://www.w3.org/1999/xhtml"><script>x</script></div>',
      '<div xmlns="http://www.w3.org/1999/xhtml">   </div>',
      '<div xmlns="http://www.w3.org/1999/xhtml"><p>fine</p></div>',
    ]) {
      const resource = { ...condition, text: { status: 'generated', div } } as Resource;
      const holds = evaluate(resource, 'Condition.text.`div`.htmlChecks()', {}, r4) as unknown[];
      const expected = holds[0] === true ? [] : ['txt-1', 'txt-2'];
      let htmlChecks = 0;
      observeFhirPath((call) => {
        htmlChecks += call.expression === 'htmlChecks()' ? 1 : 0;
      });
      const issues = planned.invariants.validateBase(resource).structural;
      observeFhirPath(undefined);
      expect(htmlChecks).toBe(1);
      expect(issues.map((i) => i.details?.text?.split(' ')[1])).toEqual(expected);
      expect(issues.map((i) => i.expression)).toEqual(expected.map(() => ['Condition.text.div']));
    }
  });
});
