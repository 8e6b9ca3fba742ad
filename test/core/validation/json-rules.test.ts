import { checkJsonRules, MAX_JSON_DEPTH, TOO_DEEP } from '../../../src/core/validation/json-rules';
import { testEngine } from '../../helpers/engine';

/** A QuestionnaireResponse whose extension nests `levels` levels of objects and arrays below the root. */
function nested(levels: number): Record<string, unknown> {
  // Each extension adds two levels (the list and the object); the root's extension list is level 1.
  const extensions = Math.floor((levels - 1) / 2);
  let leaf: Record<string, unknown> = { url: 'http://example.org/leaf', valueString: 'z' };
  for (let i = 0; i < extensions; i++) {
    leaf = { url: 'http://example.org/x', extension: [leaf] };
  }
  return { resourceType: 'QuestionnaireResponse', status: 'completed', extension: [leaf] };
}

function depth(value: unknown): number {
  if (Array.isArray(value)) {
    return 1 + Math.max(0, ...value.map(depth));
  }
  if (typeof value === 'object' && value !== null) {
    return 1 + Math.max(0, ...Object.values(value).map(depth));
  }
  return 0;
}

describe('checkJsonRules: nesting', () => {
  test('the test inputs sit just inside and just outside the limit', () => {
    expect(depth(nested(MAX_JSON_DEPTH)) - 1).toBe(MAX_JSON_DEPTH);
    expect(depth(nested(MAX_JSON_DEPTH + 2)) - 1).toBe(MAX_JSON_DEPTH + 2);
  });

  test('nesting up to the limit is not reported', () => {
    expect(checkJsonRules(nested(MAX_JSON_DEPTH))).toEqual([]);
  });

  test('deeper nesting is one error at the root, however deep it goes', () => {
    for (const levels of [MAX_JSON_DEPTH + 2, 20_000]) {
      expect(checkJsonRules(nested(levels))).toEqual([
        {
          severity: 'error',
          code: TOO_DEEP,
          details: { text: `The JSON is nested more than ${MAX_JSON_DEPTH} levels deep` },
          expression: ['QuestionnaireResponse'],
        },
      ]);
    }
  });
});

describe('checkJsonRules: empty objects and arrays', () => {
  test('regression: an empty object is not FHIR (ele-1); an empty author reached the Provenance as a 500', () => {
    expect(
      checkJsonRules({ resourceType: 'QuestionnaireResponse', status: 'completed', author: {}, meta: {} })
    ).toEqual([
      {
        severity: 'error',
        code: 'structure',
        details: { text: 'Objects must not be empty (ele-1)' },
        expression: ['QuestionnaireResponse.author'],
      },
      {
        severity: 'error',
        code: 'structure',
        details: { text: 'Objects must not be empty (ele-1)' },
        expression: ['QuestionnaireResponse.meta'],
      },
    ]);
    expect(testEngine().validator.validate({ resourceType: 'Patient', name: [{}] }).failure).toBe(
      'structural'
    );
  });

  test('an empty array is reported where it is', () => {
    expect(
      checkJsonRules({ resourceType: 'Patient', name: [{ given: [] }] }).map((i) => i.expression)
    ).toEqual([['Patient.name[0].given']]);
  });
});

describe('the validator on deeply nested input', () => {
  const validator = testEngine().validator;

  test('regression: 10,000 levels are a structural failure, not a stack overflow in the schema tier', () => {
    const result = validator.validate(nested(10_000));
    expect(result.failure).toBe('structural');
    expect(result.issues.map((i) => i.code)).toEqual([TOO_DEEP]);
  });

  test('nesting within the limit still goes through every tier', () => {
    const result = validator.validate(nested(MAX_JSON_DEPTH));
    expect(result.issues.map((i) => i.code)).not.toContain(TOO_DEEP);
  });
});
