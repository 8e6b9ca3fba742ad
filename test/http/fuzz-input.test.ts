import fc from 'fast-check';
import { testEngine } from '../helpers/engine';
import type { Operation } from '../helpers/fuzz';
import { answerOf, fuzzParameters, fuzzTimeout, problemsWith } from '../helpers/fuzz';
import type { TestServer } from '../helpers/http';
import { startServer } from '../helpers/http';
import { example } from '../helpers/bad-input';

/**
 * Fuzzing with input that is mostly not FHIR: arbitrary JSON, bytes, resource-shaped objects,
 * Parameters and query strings, against every operation of the real app on a real port. The properties:
 * never a 5xx; always an OperationOutcome (valid, with an error issue) or the operation's valid output.
 */

let server: TestServer;
const validator = testEngine().validator;
const EXAMPLE = example('re-example-turp-tamsulosin');

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());
let logged = 0;
beforeEach(() => {
  logged = server.logs.length;
});
afterEach(() => {
  // A 5xx is also logged as a server error: none may appear.
  expect(server.logs.slice(logged).filter((l) => Number(l.level) >= 50)).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

/** The POST operations, with what a success of each returns. */
const POSTS: readonly (readonly [string, Operation])[] = [
  ['QuestionnaireResponse/$re-evaluate', '$re-evaluate'],
  ['QuestionnaireResponse/$extract', '$extract'],
  ['QuestionnaireResponse/$validate', '$validate'],
  ['PlanDefinition/re-management-pathway/$apply', '$apply'],
  ['PlanDefinition/$apply', '$apply'],
  ['ValueSet/$expand', '$expand'],
  ['ValueSet/$validate-code', '$validate-code'],
  ['CodeSystem/$validate-code', '$validate-code'],
  ['CodeSystem/$lookup', '$lookup'],
];
const post = fc.constantFrom(...POSTS);

/** Keys that FHIR resources use, keys that attack object handling, and any key. */
const KEY = fc.oneof(
  fc.constantFrom(
    'resourceType',
    'id',
    'meta',
    'status',
    'item',
    'linkId',
    'answer',
    'valueBoolean',
    'valueString',
    'valueCoding',
    'questionnaire',
    'subject',
    'authored',
    'parameter',
    'name',
    'resource',
    'part',
    'extension',
    'url',
    'system',
    'code',
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty'
  ),
  fc.string({ maxLength: 12 })
);
const RESOURCE_TYPE = fc.oneof(
  fc.constantFrom(
    'QuestionnaireResponse',
    'Parameters',
    'Questionnaire',
    'PlanDefinition',
    'ValueSet',
    'CodeSystem',
    'Bundle',
    'Patient',
    'OperationOutcome'
  ),
  fc.string({ maxLength: 20 })
);
/** JSON with the interesting keys; built by text so that `__proto__` stays an own key. */
const JSON_TEXT: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 1 }).map((v) => JSON.stringify(v)),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(KEY, tie('value')), { maxLength: 5 })
      .map((pairs) => `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`)
  ),
})).value;

function send(
  path: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {}
): ReturnType<typeof answerOf> {
  return answerOf(`${server.base}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', ...headers },
    body,
  });
}

describe('fuzzing the HTTP app with input that is not FHIR', () => {
  test(
    'arbitrary JSON, to every operation',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          post,
          fc.oneof(
            fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
            JSON_TEXT
          ),
          async ([path, operation], body) => {
            expect(problemsWith(operation, await send(path, body), validator)).toEqual([]);
          }
        ),
        fuzzParameters('arbitraryJson')
      );
    },
    fuzzTimeout('arbitraryJson', 20)
  );

  test(
    'arbitrary bytes, with arbitrary media types and encodings',
    async () => {
      const headers = fc.record(
        {
          'content-type': fc.oneof(
            fc.constantFrom(
              'application/fhir+json',
              'application/json; charset=utf-8',
              'application/fhir+json; charset=utf-16',
              'application/fhir+json; fhirVersion=4.0',
              'application/fhir+xml',
              'text/plain',
              'application/x-www-form-urlencoded',
              'multipart/form-data; boundary=x',
              ''
            ),
            fc.string({ maxLength: 40 })
          ),
          'content-encoding': fc.constantFrom('identity', 'gzip', 'deflate', 'br', 'compress'),
          accept: fc.oneof(
            fc.constantFrom(
              '*/*',
              'application/fhir+json',
              'application/fhir+xml',
              'text/html',
              'application/*;q=0'
            ),
            fc.string({ maxLength: 40 })
          ),
        },
        { requiredKeys: [] }
      );
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 600 }),
        fc.string({ unit: 'binary', maxLength: 300 }).map((s) => new TextEncoder().encode(s)),
        fc.tuple(fc.nat({ max: 6000 }), fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([at, noise]) => {
          // The example with a few bytes overwritten somewhere.
          const text = new TextEncoder().encode(JSON.stringify(EXAMPLE));
          text.set(noise.subarray(0, Math.max(0, text.length - (at % text.length))), at % text.length);
          return text;
        })
      );
      await fc.assert(
        fc.asyncProperty(post, bytes, headers, async ([path, operation], body, extra) => {
          // Header values must be sendable at all; the server's reading of them is what is tested.
          const sendable = Object.fromEntries(
            Object.entries(extra).filter(([, v]) => v !== '' && /^[\t\x20-\x7e]*$/.test(v))
          );
          expect(problemsWith(operation, await send(path, body, sendable), validator)).toEqual([]);
        }),
        fuzzParameters('arbitraryBytes')
      );
    },
    fuzzTimeout('arbitraryBytes', 20)
  );

  test(
    'resource-shaped objects: a resourceType and FHIR-like members',
    async () => {
      const member = fc.tuple(KEY, fc.oneof(JSON_TEXT, fc.constant(JSON.stringify(EXAMPLE.item))));
      const resource = fc
        .tuple(RESOURCE_TYPE, fc.array(member, { maxLength: 6 }))
        .map(
          ([type, members]) =>
            `{"resourceType":${JSON.stringify(type)}${members.map(([k, v]) => `,${JSON.stringify(k)}:${v}`).join('')}}`
        );
      await fc.assert(
        fc.asyncProperty(post, resource, async ([path, operation], body) => {
          expect(problemsWith(operation, await send(path, body), validator)).toEqual([]);
        }),
        fuzzParameters('resourceShaped')
      );
    },
    fuzzTimeout('resourceShaped', 30)
  );

  test(
    'Parameters with missing, repeated, unknown and mistyped parameters',
    async () => {
      const name = fc.oneof(
        fc.constantFrom(
          'questionnaire-response',
          'questionnaire',
          'resource',
          'mode',
          'profile',
          'subject',
          'encounter',
          'practitioner',
          'organization',
          'data',
          'planDefinition',
          'url',
          'version',
          'valueSet',
          'codeSystem',
          'code',
          'system',
          'coding',
          'codeableConcept',
          'filter',
          'count',
          'offset',
          'userType'
        ),
        KEY
      );
      const valueKey = fc.constantFrom(
        'valueString',
        'valueUri',
        'valueCode',
        'valueCanonical',
        'valueInteger',
        'valueBoolean',
        'valueCoding',
        'valueCodeableConcept',
        'resource',
        'part'
      );
      const value = fc.oneof(
        JSON_TEXT,
        fc.constant(JSON.stringify(EXAMPLE)),
        fc.constant('"Patient/example-turp"'),
        fc.constant('{"resourceType":"PlanDefinition","status":"active","action":[{"title":"x"}]}'),
        fc.constant('{"system":"http://www.whocc.no/atc","code":"G04CA02"}')
      );
      const parameter = fc
        .tuple(fc.option(name, { nil: undefined }), fc.array(fc.tuple(valueKey, value), { maxLength: 2 }))
        .map(
          ([n, values]) =>
            `{${[...(n === undefined ? [] : [`"name":${JSON.stringify(n)}`]), ...values.map(([k, v]) => `"${k}":${v}`)].join(',')}}`
        );
      const parameters = fc
        .array(parameter, { maxLength: 5 })
        .map((list) => `{"resourceType":"Parameters","parameter":[${list.join(',')}]}`);
      await fc.assert(
        fc.asyncProperty(post, parameters, async ([path, operation], body) => {
          expect(problemsWith(operation, await send(path, body), validator)).toEqual([]);
        }),
        fuzzParameters('parameters')
      );
    },
    fuzzTimeout('parameters', 60)
  );

  test(
    'every parameter of every operation, beside otherwise valid input, with blank, control-character and arbitrary strings',
    async () => {
      // Each POST operation, a valid base of parameters, and every parameter it declares.
      const ANY = 'valueString';
      const VS = 'http://re-fhir.org/fhir/ValueSet/re-alpha-blockers';
      const ops: readonly (readonly [string, Operation, Record<string, unknown>[], readonly string[]])[] = [
        [
          'QuestionnaireResponse/$re-evaluate',
          '$re-evaluate',
          [{ name: 'questionnaire-response', resource: EXAMPLE }],
          ['questionnaire', 'encounter', 'practitioner', 'organization'],
        ],
        [
          'QuestionnaireResponse/$extract',
          '$extract',
          [{ name: 'questionnaire-response', resource: EXAMPLE }],
          ['questionnaire'],
        ],
        [
          'QuestionnaireResponse/$validate',
          '$validate',
          [{ name: 'resource', resource: EXAMPLE }],
          ['mode', 'profile'],
        ],
        [
          'PlanDefinition/re-management-pathway/$apply',
          '$apply',
          [{ name: 'subject', valueString: 'Patient/p' }],
          [
            'subject',
            'encounter',
            'practitioner',
            'organization',
            'userType',
            'userLanguage',
            'userTaskContext',
            'setting',
            'settingContext',
            'data',
          ],
        ],
        [
          'PlanDefinition/$apply',
          '$apply',
          [{ name: 'subject', valueString: 'Patient/p' }],
          ['planDefinition', 'url', 'version'],
        ],
        [
          'ValueSet/$expand',
          '$expand',
          [{ name: 'url', valueUri: VS }],
          ['url', 'valueSetVersion', 'valueSet', 'filter', 'count', 'offset'],
        ],
        [
          'ValueSet/$validate-code',
          '$validate-code',
          [{ name: 'url', valueUri: VS }],
          [
            'valueSetVersion',
            'valueSet',
            'code',
            'system',
            'systemVersion',
            'display',
            'coding',
            'codeableConcept',
            'abstract',
          ],
        ],
        [
          'CodeSystem/$validate-code',
          '$validate-code',
          [{ name: 'url', valueUri: 'http://re-fhir.org/fhir/CodeSystem/re-rule' }],
          ['version', 'codeSystem', 'code', 'display', 'coding', 'codeableConcept', 'abstract'],
        ],
        [
          'CodeSystem/$lookup',
          '$lookup',
          [{ name: 'system', valueUri: 'http://re-fhir.org/fhir/CodeSystem/re-rule' }],
          ['code', 'version', 'coding', 'property'],
        ],
      ];
      const op = fc
        .constantFrom(...ops)
        .chain(([path, operation, base, names]) =>
          fc.tuple(fc.constant([path, operation, base] as const), fc.constantFrom(...names))
        );
      const text = fc.oneof(
        fc.constantFrom(
          '',
          ' ',
          '   ',
          '\t',
          '\n',
          '\u0000',
          '\u0001',
          ' Patient/p',
          'Patient/p ',
          'Encounter/\u0007e',
          '\u007f'
        ),
        fc.string({ maxLength: 20 }),
        fc.string({ unit: 'binary', maxLength: 20 })
      );
      const valueKey = fc.constantFrom(ANY, 'valueUri', 'valueCode', 'valueReference');
      await fc.assert(
        fc.asyncProperty(op, text, valueKey, async ([[path, operation, base], name], value, key) => {
          const fuzzed =
            key === 'valueReference'
              ? { name, valueReference: { reference: value } }
              : { name, [key]: value };
          const body = JSON.stringify({
            resourceType: 'Parameters',
            parameter: [...base.filter((p) => p.name !== name), fuzzed],
          });
          expect(problemsWith(operation, await send(path, body), validator)).toEqual([]);
        }),
        fuzzParameters('parameters')
      );
    },
    fuzzTimeout('parameters', 80)
  );

  test(
    'query strings on every GET',
    async () => {
      const path = fc.constantFrom<readonly [string, Operation]>(
        ['ValueSet/$expand', '$expand'],
        ['ValueSet/re-alpha-blockers/$expand', '$expand'],
        ['ValueSet/$validate-code', '$validate-code'],
        ['CodeSystem/$validate-code', '$validate-code'],
        ['CodeSystem/$lookup', '$lookup'],
        ['ValueSet', 'search'],
        ['Questionnaire', 'search'],
        ['PlanDefinition', 'search'],
        ['CodeSystem/re-rule', 'read'],
        ['metadata', 'read']
      );
      const param = fc.tuple(
        fc.oneof(
          fc.constantFrom(
            'url',
            'version',
            'system',
            'code',
            'filter',
            'count',
            'offset',
            'name',
            'status',
            'display'
          ),
          fc.constantFrom('_count', '_summary', '_format', '_pretty', '_elements', 'valueSetVersion'),
          fc.string({ maxLength: 10 })
        ),
        fc.oneof(
          fc.constantFrom(
            'http://re-fhir.org/fhir/ValueSet/re-alpha-blockers',
            'http://re-fhir.org/fhir/CodeSystem/re-rule',
            'http://www.whocc.no/atc',
            'G04CA02',
            'R3',
            '-1',
            '1e309',
            'true',
            '(a+)+$',
            '%00'
          ),
          fc.string({ maxLength: 30 })
        )
      );
      await fc.assert(
        fc.asyncProperty(path, fc.array(param, { maxLength: 5 }), async ([p, operation], params) => {
          const query = new URLSearchParams(params).toString();
          const answer = await answerOf(`${server.base}/${p}${query ? `?${query}` : ''}`, {});
          expect(problemsWith(operation, answer, validator)).toEqual([]);
        }),
        fuzzParameters('queries')
      );
    },
    fuzzTimeout('queries', 20)
  );
});
