import fc from 'fast-check';
import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import type { ValidatorOptions } from '../../../src/core/validation/validator';
import { createValidator } from '../../../src/core/validation/validator';
import { shippedProfiles } from '../../helpers/content';
import { testEngine } from '../../helpers/engine';
import type { Mutation } from '../../helpers/mutate';
import { mutate, paths } from '../../helpers/mutate';
import { scenarios } from '../../helpers/scenarios';
import { r4Definitions, r4Membership, r4Schema } from '../../helpers/validation';

// `begin()` runs the base tiers once for a resource and any number of profiles; each of its answers
// must equal the separate `validate()` call's, issue for issue, including on broken resources.

const profiles = shippedProfiles();
const options: ValidatorOptions = {
  definitions: r4Definitions(),
  schema: r4Schema(),
  profiles,
  memberOf: r4Membership(),
};
const validator = createValidator(options);
// The base tiers alone: with bindings off, `validate(resource)` is exactly tiers 1-3.
const baseTiersOnly = createValidator({ ...options, tiers: { bindings: false } });
const byUrl = new Map(profiles.filter((p) => p.url).map((p) => [p.url!, p]));

/** The shipped profiles a resource claims, and one of another type (an error case). */
function profilesFor(value: unknown): (string | StructureDefinition)[] {
  const resource = (typeof value === 'object' && value !== null ? value : {}) as Partial<Resource>;
  const declared: unknown = resource.meta?.profile;
  const claimed = (Array.isArray(declared) ? declared : []).filter(
    (url): url is string => typeof url === 'string' && byUrl.has(url.split('|')[0]!)
  );
  const other = profiles.find((p) => p.type !== resource.resourceType && p.type !== 'Extension');
  return [...claimed, ...(other ? [other] : []), 'http://example.org/unknown-profile'];
}

/** Every input response and output resource of the golden scenarios. */
function goldenResources(): Resource[] {
  return scenarios().flatMap((s) => {
    const evaluation = evaluateResponse(s.response, testEngine());
    return [s.response, ...(evaluation.bundle.entry ?? []).map((e) => e.resource as Resource)];
  });
}

function expectSameAnswers(resource: unknown): void {
  const run = validator.begin(resource);
  const shapes = profilesFor(resource);
  // Profiles first, then base, then a profile again: the order must not matter.
  for (const profile of shapes) {
    expect(run.withProfile(profile)).toEqual(validator.validate(resource, { profile }));
  }
  expect(run.base()).toEqual(validator.validate(resource));
  expect(run.withProfile(shapes[0]!)).toEqual(validator.validate(resource, { profile: shapes[0]! }));
}

/** Reads of the resource's own members (and of everything below), counted through proxies. */
function counted(value: unknown): { value: unknown; reads: () => number } {
  let reads = 0;
  const cache = new WeakMap<object, object>();
  const wrap = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) {
      return v;
    }
    let proxy = cache.get(v);
    if (!proxy) {
      proxy = new Proxy(v, {
        get(target, key, receiver) {
          reads++;
          return wrap(Reflect.get(target, key, receiver));
        },
      });
      cache.set(v, proxy);
    }
    return proxy;
  };
  return { value: wrap(value), reads: () => reads };
}

describe('Validator.begin', () => {
  const golden = goldenResources();
  const seeds = golden.filter(
    (r, i) => golden.findIndex((o) => o.resourceType === r.resourceType) === i && profilesFor(r).length > 2
  );

  test('gives the same answers as validate() for every golden input and output, base and profiles', () => {
    for (const resource of golden) {
      expectSameAnswers(resource);
    }
    expect(golden.length).toBeGreaterThan(20);
  });

  test('gives the same answers as validate() on mutated resources and on values that are not resources', () => {
    const mutation: fc.Arbitrary<Mutation> = fc.record({
      at: fc.nat(),
      op: fc.constantFrom('delete', 'set', 'add', 'duplicate'),
      value: fc.oneof(
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.object(),
        fc.constant([])
      ),
      name: fc.oneof(
        fc.constantFrom('extension', 'id', 'valueString', '_status', 'resourceType'),
        fc.string()
      ),
    });
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(mutation, { maxLength: 3 }), (seed, mutations) => {
        expectSameAnswers(mutate(seed, mutations));
      }),
      { numRuns: 150 }
    );
    for (const odd of [null, 3, 'x', [], {}, { resourceType: 7 }, { resourceType: 'NotAType' }]) {
      expectSameAnswers(odd);
    }
  });

  test('gives the same answers for every single deletion in the seeds', () => {
    let cases = 0;
    for (const seed of seeds) {
      const count = paths(seed).length;
      const step = Math.max(1, Math.floor(count / 40));
      for (let at = 0; at < count; at += step) {
        expectSameAnswers(mutate(seed, [{ at, op: 'delete', value: '', name: '' }]));
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(100);
  });

  test('runs the base tiers once, however many profiles follow', () => {
    for (const resource of seeds) {
      const shapes = (resource.meta?.profile ?? []).filter((url) => byUrl.has(url));
      expect(shapes.length).toBeGreaterThan(0);
      // Warm every cache first, so that only the work on the resource is counted.
      expectSameAnswers(resource);

      const separate = counted(resource);
      validator.validate(separate.value);
      for (const profile of shapes) {
        validator.validate(separate.value, { profile });
      }
      const shared = counted(resource);
      const run = validator.begin(shared.value);
      run.base();
      for (const profile of shapes) {
        run.withProfile(profile);
      }
      const baseTiers = counted(resource);
      baseTiersOnly.validate(baseTiers.value);

      // Exactly one pass of the base tiers per profile is saved.
      expect(baseTiers.reads()).toBeGreaterThan(0);
      expect(shared.reads()).toBe(separate.reads() - shapes.length * baseTiers.reads());
    }
  });
});
