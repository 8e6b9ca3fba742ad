import type { Bundle, Condition, Resource } from '@medplum/fhirtypes';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import { evaluate } from '../../../src/index';
import { amendmentSequences, heldAfter, isActive, staleActive } from '../../helpers/amendments';
import { testEngine } from '../../helpers/engine';

const SEQUENCES = amendmentSequences();

/** Each step evaluated with what the steps before it left in the store as `previous`. */
function run(sequence: (typeof SEQUENCES)[number]): Bundle[] {
  const bundles: Bundle[] = [];
  for (const response of sequence.steps) {
    bundles.push(evaluateResponse(response, testEngine(), { previous: heldAfter(bundles) }).bundle);
  }
  return bundles;
}

/** The expected Bundle of a step; with UPDATE_GOLDEN=1 the actual one is written first (review the diff). */
function expected(file: string, actual: Bundle): Bundle | undefined {
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(file, JSON.stringify(actual, null, 2) + '\n');
  }
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Bundle) : undefined;
}

const resourceOf = (bundle: Bundle, value: string): Resource | undefined =>
  bundle.entry
    ?.map((e) => e.resource as Resource & { identifier?: { value?: string }[] })
    .find((r) => r.identifier?.some((i) => i.value === value));
const verification = (r: Resource | undefined): string | undefined =>
  (r as Condition | undefined)?.verificationStatus?.coding?.[0]?.code;

describe('golden amendment sequences', () => {
  test('there are at least three, each of two steps or more', () => {
    expect(SEQUENCES.map((s) => s.name)).toEqual(
      expect.arrayContaining(['differential-to-confirmed', 'positive-to-negative-peu', 'answers-corrected'])
    );
    expect(SEQUENCES.every((s) => s.steps.length >= 2)).toBe(true);
  });

  test.each(SEQUENCES.map((s) => [s.name, s]))(
    '%s: every amendment gives exactly the expected transaction Bundle, closing writes included',
    (_name, sequence) => {
      const bundles = run(sequence);
      bundles.forEach((bundle, i) => {
        if (i > 0) {
          expect(bundle).toEqual(expected(sequence.expectedFile(i + 1), bundle));
        }
      });
    }
  );

  test.each(SEQUENCES.map((s) => [s.name, s]))(
    '%s: nothing stale stays active after the last step',
    (_name, sequence) => {
      const bundles = run(sequence);
      const latest = evaluateResponse(sequence.steps.at(-1)!, testEngine()).bundle;
      expect(staleActive(heldAfter(bundles), latest)).toEqual([]);
      // Without the previous writes the same sequence does leave something stale: the test can fail.
      const blind = sequence.steps.map((r) => evaluateResponse(r, testEngine()).bundle);
      expect(staleActive(heldAfter(blind), latest).length).toBeGreaterThan(0);
    }
  );

  test('differential → confirmed: the anejaculation differential is refuted beside the confirmed RE', () => {
    const [, second] = run(SEQUENCES.find((s) => s.name === 'differential-to-confirmed')!);
    expect(verification(resourceOf(second!, 're-example-turp-tamsulosin-R1-re'))).toBe('confirmed');
    const anejaculation = resourceOf(second!, 're-example-turp-tamsulosin-R4-anejaculation') as Condition;
    expect(anejaculation.verificationStatus?.coding?.[0]?.code).toBe('refuted');
    expect(anejaculation.clinicalStatus?.coding?.[0]?.code).toBe('inactive');
    expect(anejaculation.note?.at(-1)?.text).toBe(
      'The amended QuestionnaireResponse/re-example-turp-tamsulosin (authored 2026-11-25T10:00:00Z) no longer supports this Condition: its evidence still stands, and the amended answers rule it out.'
    );
  });

  test('positive → negative PEU: the first plan’s requests are revoked, the CarePlan keeps its key', () => {
    const [first, second] = run(SEQUENCES.find((s) => s.name === 'positive-to-negative-peu')!);
    const requests = (b: Bundle, status: string): string[] =>
      (b.entry ?? [])
        .map((e) => e.resource as Resource & { status?: string; identifier?: { value?: string }[] })
        .filter((r) => /Request$/.test(r.resourceType) && r.status === status)
        .map((r) => r.identifier![0]!.value!);
    const revoked = requests(second!, 'revoked');
    expect(revoked.length).toBeGreaterThan(0);
    // Exactly the first plan's requests that the second plan no longer holds.
    const kept = new Set(requests(second!, 'draft'));
    expect(revoked.sort()).toEqual(
      requests(first!, 'draft')
        .filter((k) => !kept.has(k))
        .sort()
    );
    const carePlanUrl = (b: Bundle): string | undefined =>
      b.entry?.find((e) => e.resource?.resourceType === 'CarePlan')?.request?.url;
    expect(carePlanUrl(second!)).toBe(carePlanUrl(first!));
    // The Provenance of the amendment names the closing writes among its targets.
    const provenance = second!.entry!.find((e) => e.resource?.resourceType === 'Provenance')!.resource as {
      target: { reference: string }[];
    };
    const closing = second!.entry!.filter((e) =>
      (e.resource as { note?: { text?: string }[] }).note?.some((n) => n.text?.startsWith('The amended'))
    );
    expect(closing.filter((e) => (e.resource as { status?: string }).status === 'revoked').length).toBe(
      revoked.length
    );
    expect(closing.every((e) => !isActive(e.resource as Resource))).toBe(true);
    expect(provenance.target.map((t) => t.reference)).toEqual(
      expect.arrayContaining(closing.map((e) => e.fullUrl))
    );
  });

  test('a resubmission of the last step gives the same Bundle again (the closing writes are idempotent)', () => {
    for (const sequence of SEQUENCES) {
      const bundles = run(sequence);
      const last = sequence.steps.at(-1)!;
      const again = evaluateResponse(last, testEngine(), { previous: heldAfter(bundles) }).bundle;
      expect(again).toEqual(bundles.at(-1));
    }
  });

  test('the library API: evaluate(response, { previous }) gives the same Bundle, closing writes included', () => {
    const sequence = SEQUENCES.find((s) => s.name === 'differential-to-confirmed')!;
    const bundles = run(sequence);
    const previous = heldAfter(bundles.slice(0, 1));
    const viaLibrary = evaluate(sequence.steps[1], { previous, engine: testEngine() });
    expect(viaLibrary.bundle).toEqual(bundles[1]);
  });
});
