import type { WithId } from '@medplum/core';
import { getStatus, OperationOutcomeError } from '@medplum/core';
import type {
  Bundle,
  Condition,
  Questionnaire,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Resource,
} from '@medplum/fhirtypes';
import type { MockClient } from '@medplum/mock';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { evaluateAndWrite, handler, LOG_PREFIX } from '../../src/bot/handler';
import type { BotSummary, EvaluatedSummary } from '../../src/bot/handler';
import { createBotEngine } from '../../src/bot/engine';
import { PROVENANCE_KEY_SYSTEM } from '../../src/core/bundle/provenance';
import { shippedRegistry } from '../../src/core/conformance/registry';
import { KEY_SYSTEM } from '../../src/core/constants';
import type { EngineDeps } from '../../src/core/operations/engine';
import type { ReFhirError } from '../../src/core/outcomes';
import { counterIds, fixedClock } from '../helpers/ids';
import { applyPatch } from '../helpers/bad-input';
import { scenarios } from '../helpers/scenarios';
import {
  botEvent,
  countByType,
  indexedMockClient,
  keyOf,
  normalised,
  storeResponse,
  typeCounts,
} from './support';

const QUESTIONNAIRE = 'http://re-fhir.org/fhir/Questionnaire/re-evaluation';
const ALL = scenarios();
const scenario = (name: string): QuestionnaireResponse =>
  structuredClone(ALL.find((s) => s.name === name)!.response);

/** The client of the test running: {@link asShipped}, or {@link transactional} where a block says so. */
let medplum: MockClient;
/** MockClient as shipped: Medplum's router without transactions, so a transaction Bundle runs as a batch. */
let asShipped: MockClient;
/** Medplum's router with transactions, as for a project with the `transaction-bundles` feature. */
let transactional: MockClient;
let base: EngineDeps;

beforeAll(async () => {
  asShipped = await indexedMockClient();
  transactional = await indexedMockClient({ transactions: true });
  medplum = asShipped;
  base = createBotEngine();
});

/** What the bot wrote to the console in the test running (Medplum keeps it as the AuditEvent log). */
let logged: string[];

beforeEach(() => {
  medplum.repo.clear();
  logged = [];
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    logged.push(args.map(String).join(' '));
  });
});

afterEach(() => {
  jest.restoreAllMocks();
});

/** The bot's engine with the golden scenarios' frozen clock and counter ids. */
function goldenEngine(): EngineDeps {
  return { ...base, clock: fixedClock(), newId: counterIds() };
}

function evaluated(summary: BotSummary): EvaluatedSummary {
  expect(summary.outcome).toBe('evaluated');
  return summary as EvaluatedSummary;
}

/** Every stored resource of the given types, by its conditional key. */
async function storedByKey(types: readonly string[]): Promise<Map<string, WithId<Resource>>> {
  const byKey = new Map<string, WithId<Resource>>();
  for (const type of types) {
    for (const resource of await medplum.searchResources(type as Resource['resourceType'], {
      _count: '1000',
    })) {
      const key = keyOf(resource);
      expect(key).toBeDefined();
      expect(byKey.has(key!)).toBe(false);
      byKey.set(key!, resource);
    }
  }
  return byKey;
}

describe.each([
  ['transactions off', false],
  ['transactions on', true],
])('on a Medplum project with %s', (_mode, transactions) => {
  beforeAll(() => {
    medplum = transactions ? transactional : asShipped;
  });

  afterAll(() => {
    medplum = asShipped;
  });

  describe('golden scenarios through the bot, read back from Medplum', () => {
    test.each(ALL.map((s) => [s.name, s]))(
      '%s: the store holds exactly the resources of the expected Bundle, with the same content',
      async (_name, s) => {
        const expected = JSON.parse(readFileSync(s.expectedFile, 'utf8')) as Bundle;
        const response = await storeResponse(medplum, s.response);

        const summary = evaluated(await evaluateAndWrite(medplum, response, goldenEngine()));

        // Nothing else was written: per type, the store holds the response plus the expected resources.
        expect(await countByType(medplum)).toEqual({ ...typeCounts(expected), QuestionnaireResponse: 1 });

        const expectedKeyByFullUrl = new Map((expected.entry ?? []).map((e) => [e.fullUrl!, e.request!.url]));
        const stored = await storedByKey(Object.keys(typeCounts(expected)));
        const storedKeyByReference = new Map(
          [...stored].map(([key, r]) => [`${r.resourceType}/${r.id}`, key])
        );
        for (const entry of expected.entry ?? []) {
          const key = expectedKeyByFullUrl.get(entry.fullUrl!)!;
          const resource = stored.get(key);
          expect({ key, found: resource !== undefined }).toEqual({ key, found: true });
          expect({ key, content: normalised(resource!, (ref) => storedKeyByReference.get(ref)) }).toEqual({
            key,
            content: normalised(entry.resource!, (ref) => expectedKeyByFullUrl.get(ref)),
          });
        }

        // The summary names the stored Conditions and CarePlan.
        const conditionIds = [...stored.values()]
          .filter((r) => r.resourceType === 'Condition')
          .map((r) => r.id);
        expect([...summary.conditions].sort()).toEqual(conditionIds.sort());
        expect(summary.carePlan).toBe([...stored.values()].find((r) => r.resourceType === 'CarePlan')?.id);
        expect(summary.response).toBe(`QuestionnaireResponse/${response.id}`);
        expect(summary.questionnaire).toBe(`${QUESTIONNAIRE}|0.1.0`);
        expect(summary.questionnaireSource).toBe('shipped');
        expect(summary.written).toBe(expected.entry?.length);
      }
    );

    test('the Provenance keeps its key in a tag, since Medplum assigns its own id', async () => {
      const response = await storeResponse(medplum, scenario('example-diabetic-confirmed'));
      await evaluateAndWrite(medplum, response, goldenEngine());
      const [provenance] = await medplum.searchResources('Provenance', {});
      const engineId = provenance!.meta?.tag?.find((t) => t.system === PROVENANCE_KEY_SYSTEM)?.code;
      const golden = expectedOf('example-diabetic-confirmed').entry!.find(
        (e) => e.resource?.resourceType === 'Provenance'
      )!.resource!;
      expect(engineId).toBe(golden.meta?.tag?.find((t) => t.system === PROVENANCE_KEY_SYSTEM)?.code);
      expect(engineId).toMatch(/^[0-9a-f-]{36}$/);
      expect(provenance!.id).not.toBe(engineId);
    });
  });

  describe('idempotency and amendment', () => {
    test('running the bot twice on the same response creates nothing new and names the same resources', async () => {
      const response = await storeResponse(medplum, scenario('example-diabetic-confirmed'));
      const first = evaluated(await handler(medplum, botEvent(response)));
      const afterFirst = await countByType(medplum);
      const second = evaluated(await handler(medplum, botEvent(response)));

      expect(await countByType(medplum)).toEqual(afterFirst);
      expect(afterFirst).toMatchObject({
        Condition: 4,
        CarePlan: 1,
        Provenance: 1,
        QuestionnaireResponse: 1,
      });
      expect(second.conditions).toEqual(first.conditions);
      expect(second.carePlan).toBe(first.carePlan);
    });

    test('an amended response with a positive PEU confirms the same RE Condition in place', async () => {
      const completed = await storeResponse(medplum, scenario('volume-1.0-who2010'));
      const first = evaluated(await handler(medplum, botEvent(completed)));
      const reKey = { identifier: `${KEY_SYSTEM}|${completed.id}-R1-re` };
      const before = await medplum.searchResources('Condition', reKey);
      expect(before.map((c) => c.verificationStatus?.coding?.[0]?.code)).toEqual(['provisional']);
      const countsBefore = await countByType(medplum);

      const amended = await storeResponse(medplum, withPositivePeu(completed));
      const second = evaluated(await handler(medplum, botEvent(amended)));

      const after = await medplum.searchResources('Condition', reKey);
      expect(after.map((c) => [c.id, c.verificationStatus?.coding?.[0]?.code])).toEqual([
        [before[0]!.id, 'confirmed'],
      ]);
      expect(second.conditions).toContain(before[0]!.id);
      expect(second.carePlan).toBe(first.carePlan);
      const countsAfter = await countByType(medplum);
      // Same Conditions and CarePlan; the PEU adds its Observations; each response version has its Provenance.
      expect(countsAfter.Condition).toBe(countsBefore.Condition);
      expect(countsAfter.CarePlan).toBe(1);
      expect(countsAfter.Provenance).toBe(2);
      expect(countsAfter.Observation).toBeGreaterThan(countsBefore.Observation!);
      expect(countsAfter.QuestionnaireResponse).toBe(1);
    });
  });
});

/** The response amended an hour later with a positive post-ejaculatory urinalysis (automated count). */
function withPositivePeu(response: WithId<QuestionnaireResponse>): QuestionnaireResponse {
  const peu: QuestionnaireResponseItem = {
    linkId: 'peu',
    item: [
      { linkId: 'peu-sperm-seen', answer: [{ valueBoolean: true }] },
      {
        linkId: 'peu-count-method',
        answer: [
          {
            valueCoding: {
              system: 'http://re-fhir.org/fhir/CodeSystem/re-answer',
              code: 'automated',
              display: 'Automated count',
            },
          },
        ],
      },
      { linkId: 'peu-sperm-per-ml', answer: [{ valueDecimal: 2500000 }] },
      { linkId: 'peu-sperm-per-hpf-automated', answer: [{ valueDecimal: 40 }] },
    ],
  };
  const amended = structuredClone(response) as QuestionnaireResponse;
  amended.status = 'amended';
  amended.authored = new Date(Date.parse(response.authored!) + 3_600_000).toISOString();
  amended.item = amended.item!.map((group) =>
    group.linkId === 'investigations' ? { ...group, item: [...(group.item ?? []), peu] } : group
  );
  return amended;
}

describe('invalid input', () => {
  async function expectRejected(input: unknown, kind: string, text: RegExp): Promise<void> {
    const before = await countByType(medplum);
    const error = await handler(medplum, botEvent(input as QuestionnaireResponse)).then(
      () => undefined,
      (e: unknown) => e
    );
    expect(error).toBeInstanceOf(OperationOutcomeError);
    expect((error as ReFhirError).kind).toBe(kind);
    const issues = (error as OperationOutcomeError).outcome.issue;
    expect(issues.some((i) => i.severity === 'error' && text.test(i.details?.text ?? ''))).toBe(true);
    expect(await countByType(medplum)).toEqual(before);
  }

  test('a response still in progress is refused with an OperationOutcomeError and nothing is written', async () => {
    const response = await storeResponse(medplum, {
      ...scenario('example-diabetic-confirmed'),
      status: 'in-progress',
    });
    await expectRejected(response, 'conformance', /in-progress/);
  });

  test('an answer to an item the Questionnaire does not have is refused and nothing is written', async () => {
    const qr = scenario('example-diabetic-confirmed');
    qr.item = [...qr.item!, { linkId: 'not-an-item', answer: [{ valueBoolean: true }] }];
    await expectRejected(await storeResponse(medplum, qr), 'conformance', /not-an-item/);
  });

  test('a response that is not valid FHIR R4 is refused as structural and nothing is written', async () => {
    const qr = { ...scenario('example-diabetic-confirmed'), authored: 'last Tuesday' };
    await expectRejected(qr, 'structural', /authored|dateTime|date/i);
  });

  test('an input that is not a QuestionnaireResponse is refused as structural', async () => {
    await expectRejected({ resourceType: 'Patient', id: 'p1' }, 'structural', /QuestionnaireResponse/);
  });

  test('our Questionnaire at a version found neither in the bot nor in the project is refused as not found', async () => {
    const qr = { ...scenario('example-diabetic-confirmed'), questionnaire: `${QUESTIONNAIRE}|9.9.9` };
    await expectRejected(qr, 'not-found', /9\.9\.9/);
  });

  test('any JSON input either is ignored or throws an OperationOutcomeError, and never writes', async () => {
    const shipped = scenario('example-diabetic-confirmed');
    const anyInput = fc.oneof(
      fc.anything(),
      fc.record({ resourceType: fc.constant('QuestionnaireResponse') }, { requiredKeys: [] }),
      fc.dictionary(fc.constantFrom(...Object.keys(shipped)), fc.anything()).map((d) => ({
        ...shipped,
        ...d,
        resourceType: 'QuestionnaireResponse',
      }))
    );
    await fc.assert(
      fc.asyncProperty(anyInput, async (input) => {
        const result = await handler(medplum, botEvent(input as QuestionnaireResponse)).then(
          (summary) => summary.outcome,
          (e: unknown) => (e instanceof OperationOutcomeError ? 'rejected' : e)
        );
        if (result !== 'evaluated') {
          expect(['ignored', 'rejected']).toContain(result);
          expect(await countByType(medplum)).toEqual({});
        }
        medplum.repo.clear();
      }),
      { numRuns: 60 }
    );
  });
});

describe('responses of other Questionnaires', () => {
  test.each([
    ['another Questionnaire', 'http://example.org/fhir/Questionnaire/phq-9|1.0'],
    ['a URL that merely starts like ours', `${QUESTIONNAIRE}-short`],
    ['no Questionnaire', undefined],
  ])('%s: ignored, with a summary saying so, and nothing written', async (_label, canonical) => {
    const qr = scenario('example-diabetic-confirmed');
    if (canonical === undefined) {
      delete qr.questionnaire;
    } else {
      qr.questionnaire = canonical;
    }
    const response = await storeResponse(medplum, qr);
    const before = await countByType(medplum);

    const summary = await handler(medplum, botEvent(response));

    expect(summary).toEqual({
      outcome: 'ignored',
      response: `QuestionnaireResponse/${response.id}`,
      reason: expect.stringContaining(canonical ?? 'none'),
    });
    expect(await countByType(medplum)).toEqual(before);
  });
});

describe('the run summary in the log', () => {
  /** The bot's log lines, parsed (Medplum's AuditEvent.outcomeDesc holds these lines). */
  const records = (): unknown[] =>
    logged
      .filter((l) => l.startsWith(`${LOG_PREFIX} `))
      .map((l) => JSON.parse(l.slice(LOG_PREFIX.length + 1)));

  test('an evaluated response logs exactly the summary the bot returns, on one line', async () => {
    const response = await storeResponse(medplum, scenario('example-diabetic-confirmed'));
    const summary = evaluated(await handler(medplum, botEvent(response)));
    expect(summary.conditions.length).toBeGreaterThan(0);
    expect(logged).toHaveLength(1);
    expect(records()).toEqual([JSON.parse(JSON.stringify(summary))]);
  });

  test('an ignored response logs why it was ignored', async () => {
    const response = await storeResponse(medplum, {
      ...scenario('example-diabetic-confirmed'),
      questionnaire: 'http://example.org/Questionnaire/other',
    });
    const summary = await handler(medplum, botEvent(response));
    expect(records()).toEqual([summary]);
  });

  test("a refused response logs the failure's OperationOutcome", async () => {
    const response = await storeResponse(medplum, {
      ...scenario('example-diabetic-confirmed'),
      status: 'in-progress',
    });
    const error = await handler(medplum, botEvent(response)).then(
      () => undefined,
      (e: unknown) => e as OperationOutcomeError
    );
    expect(records()).toEqual([{ outcome: 'failed', operationOutcome: error?.outcome }]);
  });
});

describe('where the Questionnaire comes from', () => {
  test('a bare canonical resolves to the shipped Questionnaire', async () => {
    const response = await storeResponse(medplum, {
      ...scenario('example-anejaculation'),
      questionnaire: QUESTIONNAIRE,
    });
    const summary = evaluated(await handler(medplum, botEvent(response)));
    expect(summary.questionnaire).toBe(`${QUESTIONNAIRE}|0.1.0`);
    expect(summary.questionnaireSource).toBe('shipped');
  });

  test('a version the bot does not ship is read from the Medplum project by url and version', async () => {
    const shipped = shippedRegistry().resolve<Questionnaire>(`${QUESTIONNAIRE}|0.1.0`, 'Questionnaire')!;
    const copy: Questionnaire = {
      ...structuredClone(shipped),
      version: '0.2.0',
      title: 'RE evaluation (project copy)',
    };
    delete copy.id;
    const stored = await medplum.createResource(copy);
    const response = await storeResponse(medplum, {
      ...scenario('example-anejaculation'),
      questionnaire: `${QUESTIONNAIRE}|0.2.0`,
    });
    const searched = jest.spyOn(medplum, 'searchOne');

    const summary = evaluated(await handler(medplum, botEvent(response)));

    expect(summary.questionnaire).toBe(`${QUESTIONNAIRE}|0.2.0`);
    expect(summary.questionnaireSource).toBe('project');
    expect(searched).toHaveBeenCalledWith('Questionnaire', { url: QUESTIONNAIRE, version: '0.2.0' });
    expect(stored.version).toBe('0.2.0');
    expect(summary.conditions).toHaveLength(1);
    searched.mockRestore();
  });
});

/** A golden scenario's expected transaction Bundle. */
function expectedOf(name: string): Bundle {
  return JSON.parse(readFileSync(ALL.find((s) => s.name === name)!.expectedFile, 'utf8')) as Bundle;
}

/** The entry counts of a Bundle of `n` entries sent in transactions of at most 8, in order. */
function inEights(n: number): number[] {
  return Array.from({ length: Math.ceil(n / 8) }, (_, i) => Math.min(8, n - 8 * i));
}

describe('what the bot sends to Medplum', () => {
  test('transactions of at most 8 conditional updates only: no update-as-create under a client-chosen id', async () => {
    // Medplum refuses more than 8 entries with conditional writes, so the golden Bundle goes in eights.
    const response = await storeResponse(medplum, scenario('example-turp-tamsulosin'));
    const executeBatch = jest.spyOn(medplum, 'executeBatch');

    await handler(medplum, botEvent(response));

    const sent = executeBatch.mock.calls.map(([bundle]) => bundle);
    executeBatch.mockRestore();
    expect(sent.map((b) => b.entry?.length)).toEqual(
      inEights(expectedOf('example-turp-tamsulosin').entry!.length)
    );
    for (const bundle of sent) {
      expect(bundle.type).toBe('transaction');
      for (const entry of bundle.entry ?? []) {
        expect(entry.request?.method).toBe('PUT');
        expect(entry.request?.url).toMatch(/^[A-Za-z]+\?(identifier|_tag)=/);
        expect(entry.resource?.id).toBeUndefined();
      }
    }
  });

  test('every resource as sent, the tagged Provenance included, still meets its profiles', async () => {
    // A Medplum project holding our StructureDefinitions (npm run deploy:content) validates writes against them.
    const response = await storeResponse(medplum, scenario('example-diabetic-confirmed'));
    const executeBatch = jest.spyOn(medplum, 'executeBatch');
    await handler(medplum, botEvent(response));
    const sent = executeBatch.mock.calls.flatMap(([bundle]) => bundle.entry ?? []);
    executeBatch.mockRestore();
    expect(sent).toHaveLength(expectedOf('example-diabetic-confirmed').entry!.length);
    for (const entry of sent) {
      const resource = entry.resource!;
      for (const profile of resource.meta?.profile ?? []) {
        const errors = base.validator
          .validate(resource, { profile })
          .issues.filter((i) => i.severity === 'error');
        expect({ url: entry.request?.url, errors }).toEqual({ url: entry.request?.url, errors: [] });
      }
    }
    expect(sent.some((e) => e.resource?.resourceType === 'Provenance' && e.resource.meta?.tag)).toBe(true);
  });

  test('the Conditions it names are the stored ones, with the verification status the engine decided', async () => {
    const response = await storeResponse(medplum, scenario('example-turp-tamsulosin'));
    const summary = evaluated(await handler(medplum, botEvent(response)));
    const conditions = await Promise.all(
      summary.conditions.map((id) => medplum.readResource('Condition', id))
    );
    expect(conditions.map((c: Condition) => c.verificationStatus?.coding?.[0]?.code).sort()).toEqual([
      'differential',
      'provisional',
    ]);
  });
});

describe('on a Medplum project with transactions on, a response of more than 8 resources', () => {
  beforeAll(() => {
    medplum = transactional;
  });

  afterAll(() => {
    medplum = asShipped;
  });

  /** Every `reference` in a resource. */
  function referencesOf(value: unknown, found: string[] = []): string[] {
    if (Array.isArray(value)) {
      value.forEach((v) => referencesOf(v, found));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, v] of Object.entries(value)) {
        if (key === 'reference' && typeof v === 'string') {
          found.push(v);
        } else {
          referencesOf(v, found);
        }
      }
    }
    return found;
  }

  test('is refused by Medplum as one transaction (400, too many entries), and nothing is written', async () => {
    // The reason the bot splits its Bundle: most golden Bundles are over Medplum's limit.
    const large = ALL.map((s) => [s.name, expectedOf(s.name)] as const).filter(
      ([, b]) => b.entry!.length > 8
    );
    expect(large.length).toBeGreaterThan(ALL.length / 2);
    for (const [name, bundle] of large) {
      const error = await medplum.executeBatch(bundle).then(
        () => undefined,
        (e: unknown) => e
      );
      expect(error).toBeInstanceOf(OperationOutcomeError);
      const refused = (error as OperationOutcomeError).outcome;
      expect({ name, status: getStatus(refused), text: refused.issue[0]!.details?.text }).toEqual({
        name,
        status: 400,
        text: 'Transaction requires strict isolation but has too many entries',
      });
    }
    expect(await countByType(medplum)).toEqual({});
  });

  test('is written by the bot in transactions of at most 8, each after what it references, with real ids', async () => {
    const expected = expectedOf('example-diabetic-confirmed');
    const response = await storeResponse(medplum, scenario('example-diabetic-confirmed'));
    const executeBatch = jest.spyOn(medplum, 'executeBatch');

    const summary = evaluated(await evaluateAndWrite(medplum, response, goldenEngine()));

    const sent = executeBatch.mock.calls.map(([bundle]) => bundle);
    executeBatch.mockRestore();
    expect(sent.map((b) => b.entry?.length)).toEqual(inEights(expected.entry!.length));
    expect(sent.at(-1)!.entry!.at(-1)!.resource!.resourceType).toBe('Provenance');
    // A placeholder sent only ever names an entry of the same transaction: the rest were rewritten.
    for (const bundle of sent) {
      const own = new Set(bundle.entry!.map((e) => e.fullUrl));
      for (const uri of JSON.stringify(bundle.entry!.map((e) => e.resource)).match(
        /urn:uuid:[0-9a-f-]{36}/g
      ) ?? []) {
        expect(own.has(uri)).toBe(true);
      }
    }
    expect(summary.written).toBe(expected.entry!.length);

    // Stored: no placeholder left, and every reference to a written type names a stored resource.
    const types = Object.keys(typeCounts(expected));
    const stored = [...(await storedByKey(types)).values()];
    expect(stored).toHaveLength(expected.entry!.length);
    const ids = new Set(stored.map((r) => `${r.resourceType}/${r.id}`));
    for (const resource of stored) {
      expect(JSON.stringify(resource)).not.toContain('urn:uuid:');
      for (const reference of referencesOf(resource).filter((r) => types.includes(r.split('/')[0]!))) {
        expect({ reference, stored: ids.has(reference) }).toEqual({ reference, stored: true });
      }
    }
  });

  test('a transaction refused in the middle fails the run with the server outcome; a rerun completes one set', async () => {
    const expected = expectedOf('example-diabetic-confirmed');
    const types = Object.keys(typeCounts(expected));
    const response = await storeResponse(medplum, scenario('example-diabetic-confirmed'));
    const original = medplum.executeBatch.bind(medplum);
    const sent: Bundle[] = [];
    const executeBatch = jest.spyOn(medplum, 'executeBatch').mockImplementation((bundle, options) => {
      sent.push(bundle);
      if (sent.length !== 2) {
        return original(bundle, options);
      }
      // The injected failure: a client id on the first entry of the second transaction, which Medplum
      // refuses for a create by conditional update, and with it the whole transaction.
      const [first, ...rest] = bundle.entry!;
      const broken = { ...first!, resource: { ...first!.resource!, id: 'injected' } };
      return original({ ...bundle, entry: [broken, ...rest] }, options);
    });

    const error = await handler(medplum, botEvent(response)).then(
      () => undefined,
      (e: unknown) => e
    );
    executeBatch.mockRestore();

    expect(error).toBeInstanceOf(OperationOutcomeError);
    const failure = (error as OperationOutcomeError).outcome;
    expect(getStatus(failure)).toBe(400);
    expect(failure.issue[0]!.details?.text).toBe('Cannot provide ID for create by update');
    expect(failure.issue.at(-1)!.details?.text).toMatch(
      /^Transaction 2 of 5 failed, after the transactions before it wrote 8 resources/
    );
    expect(sent).toHaveLength(2);
    // Only the first transaction's resources are stored (and no Provenance: it is always written last).
    const afterFailure = await storedByKey(types);
    expect([...afterFailure.keys()].sort()).toEqual(sent[0]!.entry!.map((e) => e.request!.url).sort());

    const summary = evaluated(await handler(medplum, botEvent(response)));

    // Exactly one set: one resource per key (storedByKey checks), the expected counts, and the
    // resources written before the failure updated in place.
    expect(await countByType(medplum)).toEqual({ ...typeCounts(expected), QuestionnaireResponse: 1 });
    const afterRerun = await storedByKey(types);
    expect([...afterRerun.keys()].sort()).toEqual(expected.entry!.map((e) => e.request!.url).sort());
    for (const [key, resource] of afterFailure) {
      expect(afterRerun.get(key)!.id).toBe(resource.id);
    }
    expect(summary.written).toBe(expected.entry!.length);
    expect([...summary.conditions].sort()).toEqual(
      [...afterRerun.values()]
        .filter((r) => r.resourceType === 'Condition')
        .map((r) => r.id)
        .sort()
    );
  });
});

describe('a response that supports nothing to write', () => {
  test('regression: the bot writes nothing and succeeds (Medplum refuses an empty transaction)', async () => {
    const nothing = applyPatch(scenario('no-findings'), [
      { op: 'remove-item', linkId: 'shim-total' },
      { op: 'remove-item', linkId: 'pedt-total' },
    ]);
    const response = await storeResponse(medplum, nothing);
    const summary = evaluated(await evaluateAndWrite(medplum, response, goldenEngine()));
    expect({ written: summary.written, conditions: summary.conditions, carePlan: summary.carePlan }).toEqual({
      written: 0,
      conditions: [],
      carePlan: undefined,
    });
    expect(await countByType(medplum)).toEqual({ QuestionnaireResponse: 1 });
  });
});
