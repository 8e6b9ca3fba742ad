import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import { createBasePass } from '../../../src/core/validation/base-pass';
import { createBindingTier } from '../../../src/core/validation/bindings';
import { createInvariantTier } from '../../../src/core/validation/invariants';
import type { ValidatorOptions } from '../../../src/core/validation/validator';
import { createValidator } from '../../../src/core/validation/validator';
import type { Mutation } from '../../helpers/mutate';
import { mutate, paths } from '../../helpers/mutate';
import { validationGolden } from '../../helpers/validation-golden';
import { r4Definitions, r4Membership, r4Schema } from '../../helpers/validation';

// Issue 13, lever 2: the base invariants and the bindings of a resource validated without a profile
// are found in one walk (base-pass.ts). Each tier must give exactly what its own walk gives, issue
// for issue (text, order, location), and the validator the same answers as with the walks apart.

const { trees, golden, profiles } = validationGolden();
const invariants = createInvariantTier(trees);
const bindings = createBindingTier(trees, r4Membership());
const basePass = createBasePass(trees, invariants, bindings);
// Walks without plans: the oracle of both tiers (every value visited).
const invariantsUnplanned = createInvariantTier(trees, { plans: false });
const bindingsUnplanned = createBindingTier(trees, r4Membership(), { plans: false });

const options: ValidatorOptions = {
  definitions: r4Definitions(),
  schema: r4Schema(),
  profiles,
  memberOf: r4Membership(),
};
const onePass = createValidator(options);
const apart = createValidator({ ...options, onePass: false });

function expectSamePass(resource: Resource): number {
  const found = basePass(resource);
  const alone = invariants.validateBase(resource);
  expect(found.structural).toEqual(alone.structural);
  expect(found.conformance).toEqual(alone.conformance);
  expect(found.bindings).toEqual(bindings.validate(resource));
  expect(alone).toEqual(invariantsUnplanned.validateBase(resource));
  expect(found.bindings).toEqual(bindingsUnplanned.validate(resource));
  return found.structural.length + found.conformance.length + found.bindings.length;
}

function expectSameValidation(resource: unknown): void {
  const expected = apart.validate(resource);
  expect(onePass.validate(resource)).toEqual(expected);
  expect(onePass.begin(resource).base()).toEqual(expected);
  const run = onePass.begin(resource);
  const profile = profiles.find((p) => p.type === (resource as Resource | null)?.resourceType);
  if (profile) {
    // A profile first (no bindings in the base walk), then the base: the same answers.
    expect(run.withProfile(profile)).toEqual(apart.validate(resource, { profile }));
  }
  expect(run.base()).toEqual(expected);
}

/** Edits that break coded values more often than random edits do. */
const CODES = [
  'final',
  'active',
  'completed',
  'draft',
  'nope',
  '',
  'http://loinc.org',
  'http://snomed.info/sct',
];
/** Keys of coded values: Coding parts, and `code` elements under required bindings (status, intent…). */
const CODED = ['code', 'system', 'status', 'intent', 'priority', 'use'];
const codeEdit = fc.record({
  key: fc.constantFrom(...CODED),
  at: fc.nat(),
  code: fc.oneof(fc.constantFrom(...CODES), fc.string()),
});

/** Sets the value under one key of `CODED` (a path ending in it, chosen by `at`), if any. */
function editCodes(resource: Resource, edits: { key: string; at: number; code: string }[]): Resource {
  for (const { key, at, code } of edits) {
    const codePaths = paths(resource).filter((p) => p[p.length - 1] === key);
    const path = codePaths[at % Math.max(1, codePaths.length)];
    if (!path) {
      continue;
    }
    let holder = resource as unknown as Record<string | number, unknown>;
    for (const step of path.slice(0, -1)) {
      holder = holder[step] as Record<string | number, unknown>;
    }
    holder[path[path.length - 1]!] = code;
  }
  return resource;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('delete', 'set', 'add', 'duplicate'),
  value: fc.oneof(
    fc.string(),
    fc.integer(),
    fc.constant({}),
    fc.constant([{ url: 'http://example.org/x' }]),
    fc.constant({ coding: [{ system: 'http://example.org', code: 'x' }] }),
    fc.object()
  ),
  name: fc.oneof(fc.constantFrom('extension', 'contained', 'text', 'status', 'code', 'coding'), fc.string()),
});

const resources: fc.Arbitrary<Resource> = fc
  .tuple(
    fc.constantFrom(...golden),
    fc.array(mutation, { maxLength: 3 }),
    fc.array(codeEdit, { maxLength: 3 })
  )
  .map(([seed, mutations, edits]) => editCodes(mutate(seed, mutations), edits));

describe('the base pass (invariants and bindings in one walk)', () => {
  test('each tier gives its own walk’s issues on every golden resource', () => {
    for (const resource of golden) {
      expectSamePass(resource);
    }
    expect(golden.length).toBeGreaterThan(20);
  });

  test('each tier gives its own walk’s issues on mutated resources, issues found', () => {
    let issues = 0;
    fc.assert(
      fc.property(resources, (resource) => {
        issues += expectSamePass(resource);
      }),
      { numRuns: 40 }
    );
    // The generator does break codes and invariants: the comparison is not between empty lists only.
    expect(issues).toBeGreaterThan(0);
  });

  test('the validator answers as with the walks apart: golden, mutated, and not resources', () => {
    for (const resource of golden) {
      expectSameValidation(resource);
    }
    fc.assert(
      fc.property(resources, (resource) => {
        expectSameValidation(resource);
      }),
      { numRuns: 20 }
    );
    for (const odd of [null, 3, [], {}, { resourceType: 'NotAType' }]) {
      expectSameValidation(odd);
    }
  });
});
