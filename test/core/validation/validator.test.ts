import fc from 'fast-check';
import type { CodeSystem, OperationOutcomeIssue, Resource, ValueSet } from '@medplum/fhirtypes';
import { createValidator } from '../../../src/core/validation/validator';
import { createSchemaTier } from '../../../src/core/validation/schema';
import { createEnumeratedMembership, firstKnown } from '../../../src/core/validation/enumerated-valuesets';
import type { MemberOf } from '../../../src/core/validation/types';
import { deriveProfile, r4Definitions, r4Membership, r4Schema } from '../../helpers/validation';

const RE_CODES = 'http://re-fhir.org/fhir/ValueSet/re-test-conditions';
const fakeMemberOf: MemberOf = (vs, system, code) =>
  vs === RE_CODES ? system === 'http://hl7.org/fhir/sid/icd-10-cm' && code === 'N53.14' : undefined;

const profile = deriveProfile('Condition', 're-test-condition', {
  'Condition.code': { min: 1, binding: { strength: 'required', valueSet: RE_CODES } },
  'Condition.evidence.detail': { min: 1 },
  'Condition.evidence': {
    constraint: [
      {
        key: 're-ev-1',
        severity: 'error',
        human: 'Evidence details are distinct',
        expression: 'detail.reference.isDistinct()',
      },
    ],
  },
  'Condition.stage': {
    constraint: [
      {
        key: 're-st-1',
        severity: 'error',
        human: 'No references in a stage',
        expression: 'descendants().ofType(Reference).empty()',
      },
    ],
  },
});

const condition: Resource = {
  resourceType: 'Condition',
  clinicalStatus: {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
  },
  code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'N53.14' }] },
  subject: { reference: 'Patient/p1' },
};

function simple(
  issues: OperationOutcomeIssue[]
): { severity: string; code: string; text?: string; expression?: string[] }[] {
  return issues.map((i) => ({
    severity: i.severity,
    code: i.code,
    text: i.details?.text,
    expression: i.expression,
  }));
}

describe('createValidator', () => {
  const validator = createValidator({
    definitions: r4Definitions(),
    schema: r4Schema(),
    profiles: [profile],
    memberOf: firstKnown(fakeMemberOf, r4Membership()),
  });

  test("a base warning that the profile's Medplum pass finds again is reported once; the profile's own findings follow", () => {
    // Condition.subject lists Patient and Group: a Device reference is a warning in both passes.
    const odd = { ...condition, subject: { reference: 'Device/d1' } } as Resource & { code?: unknown };
    delete odd.code;
    const base = validator.validate(odd).issues;
    expect(simple(base)).toEqual([
      {
        severity: 'warning',
        code: 'structure',
        text: 'Invalid reference: got "Device", expected "http://hl7.org/fhir/StructureDefinition/Patient", "http://hl7.org/fhir/StructureDefinition/Group"',
        expression: ['Condition.subject'],
      },
    ]);
    const withProfile = validator.validate(odd, { profile: profile.url! });
    expect(withProfile.failure).toBe('conformance');
    expect(withProfile.issues.slice(0, base.length)).toEqual(base);
    const rest = withProfile.issues.slice(base.length);
    expect(rest.filter((i) => i.severity === 'warning')).toEqual([]);
    expect(rest.some((i) => i.severity === 'error' && i.expression?.[0] === 'Condition.code')).toBe(true);
  });

  test('a valid Condition passes base and profile validation', () => {
    expect(validator.validate(condition)).toEqual({ issues: [] });
    expect(validator.validate(condition, { profile: profile.url! })).toEqual({ issues: [] });
  });

  test('the schema tier reports an unknown property and a bad date as structural', () => {
    const result = validator.validate({ ...condition, foo: 1, onsetDateTime: '2020-13' });
    expect(result.failure).toBe('structural');
    expect(simple(result.issues)).toEqual([
      { severity: 'error', code: 'structure', text: 'Unknown property "foo"', expression: ['Condition.foo'] },
      {
        severity: 'error',
        code: 'structure',
        text: 'Invalid dateTime format',
        expression: ['Condition.onsetDateTime'],
      },
    ]);
  });

  test('the schema tier checks contained resources with their own type', () => {
    const issues = createSchemaTier(r4Schema()).validate({
      ...condition,
      contained: [{ resourceType: 'Patient', id: 'p', gender: 'x' }],
    });
    expect(simple(issues)).toEqual([
      {
        severity: 'error',
        code: 'structure',
        text: 'Invalid code: expected one of male, female, other, unknown',
        expression: ['Condition.contained[0].gender'],
      },
    ]);
  });

  test('with the schema tier off, Medplum reports base problems as structural', () => {
    const noSchema = createValidator({ definitions: r4Definitions(), tiers: { schema: false } });
    const result = noSchema.validate({ ...condition, subject: undefined });
    expect(result.failure).toBe('structural');
    expect(simple(result.issues)).toEqual([
      {
        severity: 'error',
        code: 'structure',
        text: 'Missing required property',
        expression: ['Condition.subject'],
      },
    ]);
  });

  test('dom-3, which Medplum skips, fails for an unreferenced contained resource and passes when referenced', () => {
    const contained = [{ resourceType: 'Patient', id: 'p' }];
    const bad = validator.validate({ ...condition, contained });
    expect(bad.failure).toBe('structural');
    expect(simple(bad.issues)).toEqual([
      {
        severity: 'error',
        code: 'invariant',
        text: 'Constraint dom-3 not met: If the resource is contained in another resource, it SHALL be referred to from elsewhere in the resource or SHALL refer to the containing resource',
        expression: ['Condition'],
      },
    ]);
    expect(validator.validate({ ...condition, contained, subject: { reference: '#p' } })).toEqual({
      issues: [],
    });
  });

  test('que-2 (unique linkIds, uses descendants()) fails on a duplicated linkId', () => {
    const result = validator.validate({
      resourceType: 'Questionnaire',
      status: 'active',
      item: [
        { linkId: 'a', type: 'group', item: [{ linkId: 'b', type: 'boolean' }] },
        { linkId: 'b', type: 'boolean' },
      ],
    });
    expect(simple(result.issues)).toEqual([
      {
        severity: 'error',
        code: 'invariant',
        text: 'Constraint que-2 not met: The link ids for groups and questions must be unique within the questionnaire',
        expression: ['Questionnaire'],
      },
    ]);
  });

  test('txt-1 and txt-2 (htmlChecks(), always true in Medplum) are evaluated on the narrative', () => {
    const narrative = (div: string): Resource => ({ ...condition, text: { status: 'generated', div } });
    const xhtml = (body: string): string => `<div xmlns="http://www.w3.org/1999/xhtml">${body}</div>`;
    expect(validator.validate(narrative(xhtml('<p>Diabetic autonomic neuropathy</p>')))).toEqual({
      issues: [],
    });
    for (const [body, key] of [
      ['<script>alert(1)</script><p>text</p>', 'txt-1'],
      ['<p onclick="alert(1)">text</p>', 'txt-1'],
      ['   ', 'txt-2'],
    ] as const) {
      const result = validator.validate(narrative(xhtml(body)));
      expect(result.failure).toBe('structural');
      expect(result.issues.map((i) => i.details?.text?.split(' not met')[0])).toContain(`Constraint ${key}`);
    }
  });

  test('a coding outside a core required ValueSet is a conformance error', () => {
    const system = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
    const result = validator.validate({
      ...condition,
      clinicalStatus: { coding: [{ system, code: 'banana' }] },
    });
    expect(result.failure).toBe('conformance');
    expect(simple(result.issues)).toEqual([
      {
        severity: 'error',
        code: 'code-invalid',
        text: `None of the codings (${system}#banana) is in the required ValueSet http://hl7.org/fhir/ValueSet/condition-clinical|4.0.1`,
        expression: ['Condition.clinicalStatus'],
      },
    ]);
  });

  test('without the schema tier, a bad code is still caught by the binding tier', () => {
    const noSchema = createValidator({
      definitions: r4Definitions(),
      memberOf: r4Membership(),
      tiers: { schema: false },
    });
    const result = noSchema.validate({ resourceType: 'QuestionnaireResponse', status: 'banana' });
    expect(result.failure).toBe('conformance');
    expect(simple(result.issues)).toEqual([
      {
        severity: 'error',
        code: 'code-invalid',
        text: 'Code "banana" is not in the required ValueSet http://hl7.org/fhir/ValueSet/questionnaire-answers-status|4.0.1',
        expression: ['QuestionnaireResponse.status'],
      },
    ]);
  });

  test('a profile binding rejects a code outside its ValueSet', () => {
    const result = validator.validate(
      { ...condition, code: { coding: [{ system: 'http://snomed.info/sct', code: '123' }] } },
      { profile: profile.url! }
    );
    expect(result.failure).toBe('conformance');
    expect(simple(result.issues)).toEqual([
      {
        severity: 'error',
        code: 'code-invalid',
        text: `None of the codings (http://snomed.info/sct#123) is in the required ValueSet ${RE_CODES}`,
        expression: ['Condition.code'],
      },
    ]);
  });

  test('an unknown ValueSet gives an information issue, not a silent pass', () => {
    const bare = createValidator({ definitions: r4Definitions(), tiers: { schema: false } });
    const result = bare.validate({ ...condition, clinicalStatus: undefined });
    expect(result.failure).toBeUndefined();
    expect(simple(result.issues)).toEqual([]);
    const withStatus = bare.validate(condition);
    expect(simple(withStatus.issues)).toEqual([
      {
        severity: 'information',
        code: 'not-supported',
        text: 'Required binding to http://hl7.org/fhir/ValueSet/condition-clinical|4.0.1 could not be checked: the ValueSet is not available',
        expression: ['Condition.clinicalStatus'],
      },
    ]);
  });

  test('profile cardinality and invariants inside backbone elements, which Medplum ignores, are enforced', () => {
    const result = validator.validate(
      {
        ...condition,
        evidence: [
          { code: [{ text: 'cloudy urine' }] },
          { detail: [{ reference: 'Observation/o' }, { reference: 'Observation/o' }] },
        ],
        stage: [{ summary: { text: 'x' } }],
      },
      { profile: profile.url! }
    );
    expect(result.failure).toBe('conformance');
    expect(simple(result.issues)).toEqual([
      {
        severity: 'error',
        code: 'invariant',
        text: 'Constraint re-ev-1 not met: Evidence details are distinct',
        expression: ['Condition.evidence[1]'],
      },
      {
        severity: 'error',
        code: 'structure',
        text: 'Missing required property',
        expression: ['Condition.evidence[0].detail'],
      },
    ]);
  });

  test('a profile-added invariant using descendants() is evaluated', () => {
    const result = validator.validate(
      { ...condition, stage: [{ summary: { text: 'x' }, assessment: [{ reference: 'Observation/o' }] }] },
      { profile: profile.url! }
    );
    expect(simple(result.issues)).toEqual([
      {
        severity: 'error',
        code: 'invariant',
        text: 'Constraint re-st-1 not met: No references in a stage',
        expression: ['Condition.stage[0]'],
      },
    ]);
  });

  test('an unknown profile is a conformance error', () => {
    expect(simple(validator.validate(condition, { profile: 'http://example.org/nope' }).issues)).toEqual([
      {
        severity: 'error',
        code: 'not-found',
        text: 'Unknown profile http://example.org/nope',
        expression: undefined,
      },
    ]);
  });

  test('arbitrary JSON gives issues, never an exception', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({
            resourceType: fc.constantFrom('Condition', 'QuestionnaireResponse', 'Patient', 'X'),
            x: fc.jsonValue(),
          }),
          fc.dictionary(
            fc.constantFrom('resourceType', 'status', 'item', 'subject', 'contained', 'code', 'evidence'),
            fc.jsonValue()
          )
        ),
        (value) => {
          const result = validator.validate(value);
          expect(Array.isArray(result.issues)).toBe(true);
          if (result.failure) {
            expect(result.issues.some((i) => i.severity === 'error')).toBe(true);
          }
        }
      ),
      { numRuns: 500 }
    );
  });

  test('garbage mutations of a valid resource never throw in any tier, with or without a profile', () => {
    const noSchema = createValidator({
      definitions: r4Definitions(),
      profiles: [profile],
      memberOf: fakeMemberOf,
      tiers: { schema: false },
    });
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('code', 'evidence', 'stage', 'subject', 'contained', 'onsetString', 'extension'),
          fc.jsonValue({ maxDepth: 3 })
        ),
        (extra) => {
          const resource = { ...condition, ...extra };
          expect(() => noSchema.validate(resource, { profile: profile.url! })).not.toThrow();
          expect(() => validator.validate(resource, { profile: profile.url! })).not.toThrow();
        }
      ),
      { numRuns: 300 }
    );
  });
});

describe('createEnumeratedMembership', () => {
  const lookup = (url: string): ValueSet | CodeSystem | undefined =>
    url === 'http://example.org/vs'
      ? {
          resourceType: 'ValueSet',
          status: 'active',
          compose: {
            include: [{ system: 'http://example.org/cs' }],
            exclude: [{ system: 'http://example.org/cs', concept: [{ code: 'c' }] }],
          },
        }
      : url === 'http://example.org/vs2'
        ? {
            resourceType: 'ValueSet',
            status: 'active',
            compose: { include: [{ valueSet: ['http://example.org/vs|2'] }] },
          }
        : url === 'http://example.org/cs'
          ? {
              resourceType: 'CodeSystem',
              status: 'active',
              content: 'complete',
              concept: [{ code: 'a', concept: [{ code: 'b' }] }, { code: 'c' }],
            }
          : undefined;
  const memberOf = createEnumeratedMembership(lookup);

  test('includes nested concepts of a complete CodeSystem and honours excludes', () => {
    expect(memberOf('http://example.org/vs|1.0', 'http://example.org/cs', 'b')).toBe(true);
    expect(memberOf('http://example.org/vs', 'http://example.org/cs', 'c')).toBe(false);
    expect(memberOf('http://example.org/vs', undefined, 'a')).toBe(true);
    expect(memberOf('http://example.org/vs', 'http://other', 'a')).toBe(false);
  });

  test('an unknown ValueSet is unknown', () => {
    expect(memberOf('http://example.org/none', 'http://example.org/cs', 'a')).toBeUndefined();
  });

  test('answers as a new membership would, whatever was asked before (expansions kept by canonical)', () => {
    const question = fc.tuple(
      fc.constantFrom(
        'http://example.org/vs',
        'http://example.org/vs2',
        'http://example.org/none',
        'http://example.org/cs'
      ),
      fc.constantFrom('', '|1.0', '|2', '|'),
      fc.constantFrom(undefined, 'http://example.org/cs', 'http://other'),
      fc.constantFrom('a', 'b', 'c', 'd')
    );
    fc.assert(
      fc.property(fc.array(question, { minLength: 1, maxLength: 30 }), (questions) => {
        const kept = createEnumeratedMembership(lookup);
        for (const [url, version, system, code] of questions) {
          const fresh = createEnumeratedMembership(lookup);
          expect(kept(url + version, system, code)).toBe(fresh(url + version, system, code));
        }
      })
    );
  });
});
