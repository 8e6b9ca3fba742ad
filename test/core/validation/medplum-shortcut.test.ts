import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import type { InternalSchemaElement, InternalTypeSchema } from '@medplum/core';
import {
  evalFhirPathTyped,
  getAllDataTypes,
  getDataType,
  OperationOutcomeError,
  toTypedValue,
  validateResource,
  validateTypedValue,
} from '@medplum/core';
import type { CarePlan, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { collectResourceTypes, isIndexed } from '../../../src/core/validation/definitions';
import { createMedplumTier, PROFILES_KEPT, profileSchemaKey } from '../../../src/core/validation/medplum';
import { hasPlan, planOf } from '../../../src/core/validation/medplum-plan';
import {
  medplumIssues,
  SharedCrawls,
  useSpecialisedChecks,
} from '../../../src/core/validation/medplum-shortcut';
import { shippedProfiles } from '../../helpers/content';
import { testEngine } from '../../helpers/engine';
import { mutate, paths } from '../../helpers/mutate';
import type { Mutation } from '../../helpers/mutate';
import { scenarios } from '../../helpers/scenarios';
import { deriveProfile, r4Definitions } from '../../helpers/validation';

/** What Medplum itself reports (it throws when there are errors, and returns the warnings). */
function medplum(validate: () => OperationOutcomeIssue[]): OperationOutcomeIssue[] | 'threw' {
  try {
    return validate();
  } catch (err) {
    return err instanceof OperationOutcomeError ? (err.outcome.issue ?? []) : 'threw';
  }
}

const tier = createMedplumTier(r4Definitions());
const profiles = new Map<string, StructureDefinition>(
  shippedProfiles()
    .filter((p) => p.type !== 'Extension' && p.url)
    .map((p) => [p.url!, p])
);

/** The profiles a resource claims that the project ships (registered with the tier on the way). */
function claimed(resource: Resource): StructureDefinition[] {
  return (resource.meta?.profile ?? [])
    .map((url) => profiles.get(url.split('|')[0]!))
    .filter((p): p is StructureDefinition => p !== undefined && p.type === resource.resourceType)
    .map((p) => {
      tier.validateProfile(resource, p);
      return p;
    });
}

function quickBase(resource: Resource): OperationOutcomeIssue[] | undefined {
  // As the tier does: only for a resource type whose definitions are loaded.
  return isIndexed(resource.resourceType)
    ? medplumIssues(toTypedValue(resource), getDataType(resource.resourceType), isIndexed)
    : undefined;
}

function quickProfile(resource: Resource, profile: StructureDefinition): OperationOutcomeIssue[] | undefined {
  const key = profileSchemaKey(profile);
  return medplumIssues({ type: key, value: resource }, getDataType(key), isIndexed);
}

/** The base pass recording its crawls, then the profile pass reusing them (as the validator runs them). */
function jointPasses(
  resource: Resource,
  profile: StructureDefinition,
  crawls = new SharedCrawls()
): { base: OperationOutcomeIssue[] | undefined; profile: OperationOutcomeIssue[] | undefined } {
  const base = isIndexed(resource.resourceType)
    ? medplumIssues(toTypedValue(resource), getDataType(resource.resourceType), isIndexed, {
        crawls,
        role: 'record',
      })
    : undefined;
  const key = profileSchemaKey(profile);
  const viaProfile = medplumIssues({ type: key, value: resource }, getDataType(key), isIndexed, {
    crawls,
    role: 'reuse',
  });
  return { base, profile: viaProfile };
}

/** Every input response and output resource of the golden scenarios. */
function goldenResources(): Resource[] {
  return scenarios().flatMap((s) => {
    const evaluation = evaluateResponse(s.response, testEngine());
    return [s.response, ...(evaluation.bundle.entry ?? []).map((e) => e.resource as Resource)];
  });
}

describe('the Medplum shortcut', () => {
  const golden = goldenResources();
  for (const r of golden) {
    tier.validateBase(r);
    claimed(r);
  }

  test("answers for every golden input and output, base and profiles, with exactly Medplum's issues", () => {
    let checked = 0;
    for (const resource of golden) {
      const base = quickBase(resource);
      expect(base).toBeDefined();
      expect(base).toEqual(medplum(() => validateResource(resource)));
      for (const profile of claimed(resource)) {
        const viaProfile = quickProfile(resource, profile);
        expect(viaProfile).toBeDefined();
        expect(viaProfile).toEqual(medplum(() => validateResource(resource, { profile })));
        checked++;
      }
    }
    // The outputs carry urn:uuid references, which Medplum warns about: the warnings are reproduced.
    expect(golden.some((r) => (quickBase(r) ?? []).length > 0)).toBe(true);
    expect(checked).toBeGreaterThan(100);
  });

  const seeds = [...new Map(golden.map((r) => [r.resourceType, r])).values()];
  const reference = 'urn:uuid:00000000-0000-4000-8000-000000000001';
  const mutationArb: fc.Arbitrary<Mutation[]> = fc.array(
    fc.record({
      at: fc.nat(),
      op: fc.constantFrom<Mutation['op']>('delete', 'set', 'add', 'duplicate'),
      value: fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom(
          reference,
          { reference },
          { reference: 'Group/g' },
          { reference: '#missing' },
          { reference: 'Condition?identifier=x|y' },
          null,
          '',
          '  ',
          [],
          {},
          [null],
          [{}],
          'bad id',
          '2025-13-01',
          '2025-01-02T10:00:00Z',
          1.5,
          -1,
          0,
          true,
          { coding: [{ system: 'http://x', code: 'y' }] },
          { url: 'http://example.org/x', valueString: 'y' },
          { url: 'http://example.org/x' },
          { resourceType: 'Patient', id: 'p' },
          { resourceType: 'Nonsense' }
        )
      ),
      name: fc.constantFrom(
        'valueString',
        'valueBoolean',
        'valueCodeableConcept',
        'onsetString',
        'effectivePeriod',
        '_status',
        '_value',
        'resourceType',
        'value[x]',
        'toString',
        'foo',
        'extension',
        'id',
        'text',
        'reference',
        'note',
        'code',
        'coding',
        'system',
        'display'
      ),
    }),
    { maxLength: 4 }
  );

  test("gives exactly Medplum's issues whenever it answers, on generated resources (base and profiles)", () => {
    let answered = 0;
    let deferred = 0;
    fc.assert(
      fc.property(fc.constantFrom(...seeds), mutationArb, (seed, mutations) => {
        const resource = mutate(seed, mutations);
        const base = quickBase(resource);
        if (base === undefined) {
          deferred++;
        } else {
          answered++;
          expect(base).toEqual(medplum(() => validateResource(resource)));
        }
        for (const profile of claimed(seed)) {
          const viaProfile = quickProfile(resource, profile);
          if (viaProfile !== undefined) {
            expect(viaProfile).toEqual(
              medplum(() => validateTypedValue({ type: profileSchemaKey(profile), value: resource }))
            );
            expect(viaProfile).toEqual(medplum(() => validateResource(resource, { profile })));
          }
        }
        // The tier as a whole (shortcut or not) reports what Medplum reports, except that it
        // names resource types it cannot load where Medplum would skip them.
        const tierBase = tier.validateBase(resource);
        const official = medplum(() => validateResource(resource));
        if (official !== 'threw' && [...collectResourceTypes(resource)].every(isIndexed)) {
          expect(tierBase).toEqual(official);
        }
      }),
      { numRuns: 600 }
    );
    // Both paths were exercised.
    expect(answered).toBeGreaterThan(50);
    expect(deferred).toBeGreaterThan(50);
  });

  test("gives exactly Medplum's issues whenever it answers, for every single edit of the golden seeds", () => {
    const edits: Omit<Mutation, 'at'>[] = [
      { op: 'delete', value: '', name: '' },
      { op: 'duplicate', value: '', name: '' },
      { op: 'set', value: '', name: '' },
      // A second value for a choice element, a primitive extension.
      ...['valueString', 'onsetString', '_status'].map((name) => ({
        op: 'add' as const,
        value: 'x',
        name,
      })),
    ];
    let cases = 0;
    for (const seed of seeds) {
      const seedProfiles = claimed(seed);
      const count = paths(seed).length + 1;
      // Every path of the smaller seeds; an even spread of 150 in the large RequestGroup.
      const step = Math.max(1, Math.floor(count / 150));
      for (let at = count - 1; at >= 0; at -= step) {
        for (const edit of edits) {
          const resource = mutate(seed, [{ at, ...edit }]);
          const base = quickBase(resource);
          if (base !== undefined) {
            expect(base).toEqual(medplum(() => validateResource(resource)));
          }
          for (const profile of seedProfiles) {
            const viaProfile = quickProfile(resource, profile);
            if (viaProfile !== undefined) {
              // The cached profile schema (equal to validateResource with the profile, see medplum.test.ts).
              expect(viaProfile).toEqual(
                medplum(() => validateTypedValue({ type: profileSchemaKey(profile), value: resource }))
              );
            }
          }
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(1000);
  });

  test('the joint passes (profile pass reusing the base crawls) equal each pass alone: golden, generated, every edit', () => {
    let pairs = 0;
    let shared = 0;
    const same = (resource: Resource, profile: StructureDefinition): void => {
      const crawls = new SharedCrawls();
      const joint = jointPasses(resource, profile, crawls);
      expect(joint).toEqual({ base: quickBase(resource), profile: quickProfile(resource, profile) });
      pairs++;
      if (crawls.rootPath !== undefined && [...crawls.byValue.values()].some((c) => c !== null)) {
        shared++;
      }
    };
    for (const resource of golden) {
      for (const profile of claimed(resource)) {
        same(resource, profile);
        // Every golden output is answered, so its crawls are shared.
        expect(jointPasses(resource, profile).profile).toBeDefined();
      }
    }
    const goldenPairs = pairs;
    expect(shared).toBe(goldenPairs);
    fc.assert(
      fc.property(fc.constantFrom(...seeds), mutationArb, (seed, mutations) => {
        const resource = mutate(seed, mutations);
        for (const profile of claimed(seed)) {
          same(resource, profile);
        }
      }),
      { numRuns: 300 }
    );
    for (const seed of seeds) {
      const count = paths(seed).length + 1;
      const step = Math.max(1, Math.floor(count / 60));
      for (let at = count - 1; at >= 0; at -= step) {
        for (const op of ['delete', 'duplicate', 'set'] as const) {
          const resource = mutate(seed, [{ at, op, value: { reference: 'Group/g' }, name: '' }]);
          for (const profile of claimed(seed)) {
            same(resource, profile);
          }
        }
      }
    }
    expect(pairs - goldenPairs).toBeGreaterThan(300);
  });

  test('the specialised key checks give what the general path gives (verdict and warnings), and Medplum agrees', () => {
    // Edits aimed at each specialised shape: wrong JSON types, extra keys, required elements
    // removed, arrays where single values belong and the reverse, primitive extensions, contained
    // resources, values inside sliced and patterned elements.
    const shapes = fc.record({
      at: fc.nat(),
      op: fc.constantFrom<Mutation['op']>('delete', 'set', 'add', 'duplicate'),
      value: fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom(
          'x',
          ' x',
          'a\u0001b',
          'x\u00a0',
          '\u2028',
          'urn:uuid:x y',
          '\ud800',
          2,
          2.5,
          -0,
          false,
          ['x'],
          [1],
          [{ reference }],
          { reference },
          { extension: [{ url: 'http://example.org/x', valueString: 'y' }] },
          [{ resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'c' } }],
          { system: 'http://snomed.info/sct', code: '3835006' },
          { coding: [{ system: 'http://snomed.info/sct', code: '3835006', display: 'd' }] }
        )
      ),
      name: fc.constantFrom(
        '_status',
        '_code',
        '_reference',
        'contained',
        'extension',
        'modifierExtension',
        'coding',
        'category',
        'status',
        'subject',
        'text',
        'display',
        'valueString',
        'unknownKey'
      ),
    });
    let answered = 0;
    let compared = 0;
    const both = (resource: Resource, profile: StructureDefinition | undefined): void => {
      const run = (): unknown => [
        quickBase(resource),
        profile && quickProfile(resource, profile),
        profile && jointPasses(resource, profile),
      ];
      useSpecialisedChecks(false);
      let general: unknown;
      try {
        general = run();
      } finally {
        useSpecialisedChecks(true);
      }
      const specialised = run();
      expect(specialised).toEqual(general);
      compared++;
      const base = quickBase(resource);
      if (base !== undefined) {
        answered++;
        expect(base).toEqual(medplum(() => validateResource(resource)));
      }
    };
    for (const resource of golden) {
      for (const profile of [undefined, ...claimed(resource)]) {
        both(resource, profile);
      }
    }
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(shapes, { minLength: 1, maxLength: 3 }),
        (seed, mutations) => {
          const resource = mutate(seed, mutations);
          for (const profile of [undefined, ...claimed(seed)]) {
            both(resource, profile);
          }
        }
      ),
      { numRuns: 500 }
    );
    expect(answered).toBeGreaterThan(golden.length);
    expect(compared).toBeGreaterThan(golden.length + 500);
  });

  test('keys in any order (the one-loop check falls back to sorting): the same issues, and still answered', () => {
    // The golden resources' objects with their keys permuted at every depth: Medplum reports in
    // schema order, so the issues must not change, and the shortcut must still answer.
    const permuted = (value: unknown, next: () => number): unknown => {
      if (Array.isArray(value)) {
        return value.map((v) => permuted(v, next));
      }
      if (typeof value !== 'object' || value === null) {
        return value;
      }
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i > 0; i--) {
        const j = next() % (i + 1);
        [entries[i], entries[j]] = [entries[j]!, entries[i]!];
      }
      return Object.fromEntries(entries.map(([k, v]) => [k, permuted(v, next)]));
    };
    const run = (resource: Resource, profile: StructureDefinition | undefined): unknown => [
      quickBase(resource),
      profile && quickProfile(resource, profile),
      profile && jointPasses(resource, profile),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...golden), fc.integer({ min: 1, max: 2 ** 30 }), (resource, seed) => {
        let state = seed;
        const shuffled = permuted(resource, () => (state = (state * 48271) % 2147483647)) as Resource;
        for (const profile of [undefined, ...claimed(resource)]) {
          const quick = run(shuffled, profile);
          expect(quick).toEqual(run(resource, profile));
          useSpecialisedChecks(false);
          try {
            expect(run(shuffled, profile)).toEqual(quick);
          } finally {
            useSpecialisedChecks(true);
          }
        }
        expect(quickBase(shuffled)).toEqual(medplum(() => validateResource(shuffled)));
      }),
      { numRuns: 30 }
    );
    // A warning met before a key out of schema order (CarePlan.activity: reference, then progress).
    const carePlan = golden.find(
      (r) => r.resourceType === 'CarePlan' && (r as CarePlan).activity?.[0]?.reference
    ) as CarePlan;
    const late: CarePlan = {
      ...carePlan,
      activity: [{ reference: carePlan.activity![0]!.reference, progress: [{ text: 'seen' }] }],
    };
    const issues = quickBase(late);
    expect(issues).toEqual(medplum(() => validateResource(late)));
    expect(issues!.filter((i) => i.expression?.[0] === 'CarePlan.activity[0].reference')).toHaveLength(1);
  });

  test("empty, null and scalar values where complex values belong (single and repeated): the general path's verdict and warnings, and Medplum's issues", () => {
    // The specialised check of a complex element leaves the "not empty" test to the value's crawl
    // (which fails an object without keys), instead of a loop of its own: these are the values on
    // which the two could differ.
    const odd = fc.constantFrom<unknown>(
      {},
      [],
      [{}],
      null,
      [null],
      'x',
      3,
      true,
      [[]],
      [{}, { text: 't' }],
      [{ text: 't' }, {}],
      { text: 't' },
      [{ text: 't' }],
      { reference },
      [{ reference }, {}],
      { extension: [] },
      { extension: [{}] },
      { id: 'x' },
      { resourceType: 'Patient' }
    );
    const edit = fc.record({
      at: fc.nat(),
      op: fc.constantFrom<Mutation['op']>('set', 'add'),
      value: odd,
      name: fc.constantFrom(
        'code',
        'category',
        'subject',
        'identifier',
        'meta',
        'text',
        'extension',
        'coding',
        'note'
      ),
    });
    let answered = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(edit, { minLength: 1, maxLength: 2 }),
        (seed, edits) => {
          const resource = mutate(seed, edits);
          for (const profile of [undefined, ...claimed(seed)]) {
            const run = (): unknown => [
              quickBase(resource),
              profile && quickProfile(resource, profile),
              profile && jointPasses(resource, profile),
            ];
            const specialised = run();
            useSpecialisedChecks(false);
            try {
              expect(specialised).toEqual(run());
            } finally {
              useSpecialisedChecks(true);
            }
          }
          const base = quickBase(resource);
          if (base !== undefined) {
            answered++;
            expect(base).toEqual(medplum(() => validateResource(resource)));
          }
        }
      ),
      { numRuns: 80 }
    );
    expect(answered).toBeGreaterThan(0);
    // Each shape alone, as a Condition's code (single) and category (repeated): answered only with
    // Medplum's issues (never when Medplum finds an error), and the same on either path.
    const condition = seeds.find((r) => r.resourceType === 'Condition')!;
    let erroneous = 0;
    for (const value of [{}, [], [{}], null, 'x', [null], [{}, { text: 't' }], { id: 'x' }]) {
      for (const key of ['code', 'category']) {
        const edited = { ...condition, [key]: value } as Resource;
        const expected = medplum(() => validateResource(edited));
        const quick = quickBase(edited);
        if (expected === 'threw' || expected.some((i) => i.severity === 'error')) {
          erroneous++;
          expect([key, value, quick]).toEqual([key, value, undefined]);
        } else if (quick !== undefined) {
          expect(quick).toEqual(expected);
        }
        useSpecialisedChecks(false);
        try {
          expect(quickBase(edited)).toEqual(quick);
        } finally {
          useSpecialisedChecks(true);
        }
      }
    }
    expect(erroneous).toBeGreaterThan(10);
  });

  test("a type's schema replaced in Medplum's map between two walks is read by the next walk", () => {
    // The walk resolves each element's type in Medplum's map once per walk, not once ever.
    const condition = seeds.find((r) => r.resourceType === 'Condition')! as Resource & {
      code?: { coding?: { system?: string; code?: string; display?: string }[] };
    };
    const noCode: Resource = {
      ...condition,
      code: { coding: [{ system: 'http://snomed.info/sct', display: 'no code' }] },
    } as Resource;
    const before = quickBase(noCode);
    expect(before).toBeDefined();
    expect(before).toEqual(medplum(() => validateResource(noCode)));
    const types = getAllDataTypes();
    const coding = types['Coding']!;
    try {
      // Coding.code made required: Medplum now reports the missing code, so the walk must defer.
      types['Coding'] = {
        ...coding,
        elements: { ...coding.elements, code: { ...coding.elements['code']!, min: 1 } },
      };
      const expected = medplum(() => validateResource(noCode));
      expect(expected === 'threw' || expected.some((i) => i.severity === 'error')).toBe(true);
      expect(quickBase(noCode)).toBeUndefined();
    } finally {
      types['Coding'] = coding;
    }
    expect(quickBase(noCode)).toEqual(before);
  });

  test('the profile pass really reuses the crawls (a doctored crawl shows), and only for the same root', () => {
    const resource = golden.find((r) => r.resourceType === 'Condition' && claimed(r).length > 0)!;
    const profile = claimed(resource)[0]!;
    const crawls = new SharedCrawls();
    const alone = quickProfile(resource, profile)!;
    jointPasses(resource, profile, crawls);
    for (const [value, crawl] of crawls.byValue) {
      if (crawl) {
        crawls.byValue.set(value, { ...crawl, warnings: [['shared', 'Doctored.path']] });
      }
    }
    const key = profileSchemaKey(profile);
    const reused = medplumIssues({ type: key, value: resource }, getDataType(key), isIndexed, {
      crawls,
      role: 'reuse',
    });
    expect(reused!.filter((i) => i.details?.text === 'shared').length).toBeGreaterThan(0);
    expect(reused!.length).toBeGreaterThan(alone.length);
    // Another resource (even an equal copy) does not reuse them.
    const copy = structuredClone(resource);
    expect(
      medplumIssues({ type: key, value: copy }, getDataType(key), isIndexed, { crawls, role: 'reuse' })
    ).toEqual(alone);
  });

  test('one object at two places: each place reports its own paths in the joint passes', () => {
    const resource = golden.find((r) => r.resourceType === 'Condition' && claimed(r).length > 0)!;
    const profile = claimed(resource)[0]!;
    // A warning inside the shared object (Annotation.authorReference does not list urn:uuid).
    const note = {
      text: 'n',
      authorReference: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000009' },
    };
    const twice = { ...resource, note: [note, note] } as Resource;
    const joint = jointPasses(twice, profile);
    expect(joint.profile).toBeDefined();
    expect(joint).toEqual({ base: quickBase(twice), profile: quickProfile(twice, profile) });
    expect(joint.profile).toEqual(medplum(() => validateResource(twice, { profile })));
    expect(joint.profile!.filter((i) => i.expression?.[0]?.includes('note[1]')).length).toBe(1);
  });

  test('defers to Medplum for what it does not model, and for any finding other than a reference warning', () => {
    const observation = golden.find((r) => r.resourceType === 'Observation')!;
    const withPrimitiveExtension = {
      ...observation,
      _status: { extension: [{ url: 'http://x', valueString: 'y' }] },
    };
    const withNull = { ...observation, issued: null } as unknown as Resource;
    const withoutStatus = { ...observation } as Record<string, unknown>;
    delete withoutStatus.status;
    const withUnknownKey = { ...observation, colour: 'blue' } as Resource;
    const withBadDate = { ...observation, effectiveDateTime: '2025-13-01' } as Resource;
    const withoutValue = Object.fromEntries(
      Object.entries(observation).filter(([k]) => !k.startsWith('value'))
    );
    const withQuantity = (value: number): Resource =>
      ({ ...withoutValue, valueQuantity: { value } }) as Resource;
    const withNaN = withQuantity(Number.NaN);
    expect(quickBase(withQuantity(1.5))).toEqual([]);
    for (const r of [withPrimitiveExtension, withNull, withoutStatus, withUnknownKey, withBadDate, withNaN]) {
      expect(quickBase(r as Resource)).toBeUndefined();
    }
    expect(quickBase(observation)).toEqual([]);
  });

  test('checks patterns as Medplum does: a match is answered, a mismatch deferred', () => {
    const problem = { coding: [{ system: 'http://snomed.info/sct', code: '3835006' }] };
    const profile = deriveProfile('Condition', 're-test-pattern', {
      'Condition.code': { patternCodeableConcept: problem, min: 1 },
    });
    const matching: Resource = {
      resourceType: 'Condition',
      code: problem,
      subject: { reference: 'Patient/p' },
    };
    const other: Resource = { ...matching, code: { text: 'something else' } } as Resource;
    tier.validateProfile(matching, profile);
    expect(quickProfile(matching, profile)).toEqual(medplum(() => validateResource(matching, { profile })));
    expect(quickProfile(matching, profile)).toEqual([]);
    expect(quickProfile(other, profile)).toBeUndefined();
    expect(medplum(() => validateResource(other, { profile }))).not.toEqual([]);
  });

  test('defers on a key Medplum could read both as an element and as a choice element', () => {
    const basic: Resource = { resourceType: 'Basic', code: { text: 'x' } };
    tier.validateBase(basic);
    const schema = getDataType('Basic');
    const element = (path: string): InternalSchemaElement => ({
      path,
      description: '',
      min: 0,
      max: 1,
      type: [{ code: 'string' }],
    });
    const odd = {
      ...schema,
      elements: {
        ...schema.elements,
        'value[x]': element('Basic.value[x]'),
        valueSet: element('Basic.valueSet'),
      },
    };
    expect(medplumIssues(toTypedValue(basic), odd, isIndexed)).toEqual([]);
    expect(medplumIssues(toTypedValue({ ...basic, valueString: 'y' }), odd, isIndexed)).toEqual([]);
    expect(medplumIssues(toTypedValue({ ...basic, valueSet: 'y' }), odd, isIndexed)).toBeUndefined();
  });
});

describe('the Medplum shortcut, per-schema plans', () => {
  const reference = 'urn:uuid:00000000-0000-4000-8000-000000000001';
  const carePlan: Resource = {
    resourceType: 'CarePlan',
    status: 'active',
    intent: 'plan',
    subject: { reference: 'Patient/p' },
    category: [{ coding: [{ system: 'http://snomed.info/sct', code: '734163000' }] }],
  } as Resource;
  // Narrowed targets at the root (the profile schema's own elements), a pattern and a fixed code, so that each of the plan's per-element tables is exercised against Medplum.
  const profile = deriveProfile('CarePlan', 're-test-plan', {
    'CarePlan.supportingInfo': {
      type: [
        {
          code: 'Reference',
          targetProfile: [
            'http://hl7.org/fhir/StructureDefinition/Observation',
            'https://medplum.com/fhir/StructureDefinition/Bot',
          ],
        },
      ],
    },
    'CarePlan.addresses': {
      type: [{ code: 'Reference', targetProfile: ['http://hl7.org/fhir/StructureDefinition/Condition'] }],
    },
    'CarePlan.status': { patternCode: 'active' },
    'CarePlan.intent': { fixedCode: 'plan' },
  });
  tier.validateBase(carePlan);
  tier.validateProfile(carePlan, profile);

  const referenceArb = fc.oneof(
    fc.constantFrom(
      reference,
      'Condition/c1',
      'Observation/o1',
      'Bot/b',
      'Group/g',
      'Observation?code=x',
      'Group?x=y/z',
      '#contained',
      '/Condition/1',
      '?x',
      'Condition',
      'http://example.org/fhir/Condition/1',
      ''
    ),
    fc.string({ maxLength: 12 })
  );
  const carePlanArb = fc
    .record({
      supportingInfo: fc.array(referenceArb, { maxLength: 4 }),
      addresses: fc.array(referenceArb, { maxLength: 4 }),
      basedOn: fc.array(referenceArb, { maxLength: 2 }),
      category: fc.array(
        fc.constantFrom(
          { coding: [{ system: 'http://snomed.info/sct', code: '734163000' }] },
          { coding: [{ system: 'http://snomed.info/sct', code: 'other' }] },
          { text: 'x' }
        ),
        { maxLength: 3 }
      ),
      intent: fc.constantFrom('plan', 'plan', 'order'),
      status: fc.constantFrom('active', 'active', 'draft'),
    })
    .map(({ supportingInfo, addresses, basedOn, category, intent, status }) => {
      const r: Record<string, unknown> = { ...carePlan, intent, status };
      const refs = (list: string[]): { reference: string }[] => list.map((x) => ({ reference: x }));
      if (supportingInfo.length > 0) r.supportingInfo = refs(supportingInfo);
      if (addresses.length > 0) r.addresses = refs(addresses);
      if (basedOn.length > 0) r.basedOn = refs(basedOn);
      if (category.length > 0) r.category = category;
      return r as unknown as Resource;
    });

  test("reference warnings (paths in arrays, narrowed targets), patterns and fixed values: Medplum's issues", () => {
    let warned = 0;
    let answered = 0;
    fc.assert(
      fc.property(carePlanArb, (resource) => {
        const base = quickBase(resource);
        if (base !== undefined) {
          expect(base).toEqual(medplum(() => validateResource(resource)));
        }
        const viaProfile = quickProfile(resource, profile);
        if (viaProfile !== undefined) {
          answered++;
          warned += viaProfile.length > 0 ? 1 : 0;
          expect(viaProfile).toEqual(
            medplum(() => validateTypedValue({ type: profileSchemaKey(profile), value: resource }))
          );
          expect(viaProfile).toEqual(medplum(() => validateResource(resource, { profile })));
        }
      }),
      { numRuns: 400 }
    );
    expect(answered).toBeGreaterThan(50);
    expect(warned).toBeGreaterThan(20);
  });

  test('a reference warning names the array position Medplum names', () => {
    const resource = {
      ...carePlan,
      supportingInfo: [{ reference: 'Observation/o' }, { reference }, { reference: 'Bot/b' }],
    } as Resource;
    const issues = quickProfile(resource, profile);
    expect(issues).toEqual(medplum(() => validateResource(resource, { profile })));
    expect(issues?.map((i) => i.expression)).toEqual([['CarePlan.supportingInfo[1]']]);
  });

  test('htmlChecks() (txt-1, txt-2 on every narrative), which the plans skip, is true for any input under Medplum', () => {
    const div = getDataType('Narrative').elements.div!;
    expect(div.constraints?.filter((c) => c.expression === 'htmlChecks()').map((c) => c.key)).toEqual([
      'txt-1',
      'txt-2',
    ]);
    fc.assert(
      fc.property(
        fc.anything(),
        fc.constantFrom('xhtml', 'Narrative', 'string', 'Observation'),
        (value, type) => {
          const context = { type, value };
          const variables = { '%context': context, '%resource': context, '%rootResource': context };
          expect(evalFhirPathTyped('htmlChecks()', [context], variables)).toEqual([
            { type: 'boolean', value: true },
          ]);
        }
      ),
      { numRuns: 300 }
    );
  });

  test('a key present with the value undefined: answered only as Medplum answers', () => {
    const observation: Resource = {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'x' },
      valueString: 'y',
    } as Resource;
    tier.validateBase(observation);
    for (const key of ['issued', 'note', 'valueString', 'status', 'code']) {
      const resource = { ...observation, [key]: undefined } as Resource;
      const quick = quickBase(resource);
      if (quick !== undefined) {
        expect(quick).toEqual(medplum(() => validateResource(resource)));
      }
    }
    expect(quickBase(observation)).toEqual([]);
    // Medplum reports the key as unknown (an earlier walk answered [] here).
    expect(quickBase({ ...observation, valueString: undefined } as Resource)).toBeUndefined();
  });

  test("an evicted profile's plan is dropped with its schema", async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const condition: Resource = {
      resourceType: 'Condition',
      subject: { reference: 'Patient/p' },
    } as Resource;
    const first = deriveProfile('Condition', 're-test-evicted', { 'Condition.note': { min: 1 } });
    tier.validateProfile(condition, first);
    // Held only weakly from here on: the schema and its plan.
    const refs = ((): { schema: WeakRef<InternalTypeSchema>; plan: WeakRef<object> } => {
      const schema = getDataType(profileSchemaKey(first));
      expect(quickProfile({ ...condition, note: [{ text: 'n' }] } as Resource, first)).toEqual([]);
      expect(hasPlan(schema)).toBe(true);
      return { schema: new WeakRef(schema), plan: new WeakRef(planOf(schema)) };
    })();
    for (let i = 0; i < PROFILES_KEPT; i++) {
      tier.validateProfile(
        condition,
        deriveProfile('Condition', `re-test-evicting-${i}`, { 'Condition.note': { min: 1 } })
      );
    }
    // WeakRefs are cleared only after the current job: let it end between collections.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(refs.schema.deref()).toBeUndefined();
    expect(refs.plan.deref()).toBeUndefined();
  });
});
