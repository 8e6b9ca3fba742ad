import type { Bundle, Condition, QuestionnaireResponse, Resource, ServiceRequest } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { CLOSABLE_TYPES, closingEntries, previousWritesSearches } from '../../../src/core/bundle/reconcile';
import { KEY_SYSTEM } from '../../../src/core/constants';
import { evaluateResponse } from '../../../src/core/operations/evaluate';
import type { ReFhirError } from '../../../src/core/outcomes';
import { amendmentSequences } from '../../helpers/amendments';
import { testEngine } from '../../helpers/engine';

const [first, second] = amendmentSequences().find((s) => s.name === 'positive-to-negative-peu')!.steps as [
  QuestionnaireResponse,
  QuestionnaireResponse,
];
const firstBundle = evaluateResponse(first, testEngine()).bundle;
const secondBundle = evaluateResponse(second, testEngine()).bundle;
/** What the first evaluation wrote, as a server would hold it (with ids). */
const stored: Resource[] = (firstBundle.entry ?? []).map((e, i) => ({
  ...(e.resource as Resource),
  id: `stored-${i}`,
  meta: { ...e.resource!.meta, versionId: '1', lastUpdated: '2026-11-20T12:00:01Z' },
}));
const written = (secondBundle.entry ?? []).slice(0, -1); // without its Provenance
const keysOf = (entries: readonly { request?: { ifNoneExist?: string } }[]): string[] =>
  entries.map((e) => e.request!.ifNoneExist!.split('|').pop()!).sort();

describe('closingEntries', () => {
  const closing = closingEntries(second, written, stored);

  test('closes exactly what the first evaluation wrote and the amended one does not, keyed conditionally', () => {
    const now = new Set(written.map((e) => (e.resource as ServiceRequest).identifier?.[0]?.value));
    const expected = stored
      .filter((r) => r.resourceType !== 'Observation' && r.resourceType !== 'Provenance')
      .map((r) => (r as ServiceRequest).identifier![0]!.value!)
      .filter((v) => !now.has(v))
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(keysOf(closing)).toEqual(expected);
    for (const entry of closing) {
      const resource = entry.resource as ServiceRequest;
      expect(entry.request).toEqual({
        method: 'POST',
        url: resource.resourceType,
        ifNoneExist: `identifier=${KEY_SYSTEM}|${resource.identifier![0]!.value}`,
      });
      // The server's id and version are not copied: the conditional key finds the resource.
      expect(resource.id).toBeUndefined();
      const before = stored.find(
        (r) => (r as ServiceRequest).identifier?.[0]?.value === resource.identifier![0]!.value
      );
      expect(resource.meta).toEqual(before!.meta?.profile ? { profile: before!.meta.profile } : undefined);
    }
  });

  test('the same input in another order, or as a searchset Bundle, gives the same entries', () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [...stored].reverse().map((resource) => ({ resource, search: { mode: 'match' } })),
    };
    expect(closingEntries(second, written, bundle)).toEqual(closing);
    expect(closingEntries(second, written, [...stored, ...stored])).toEqual(closing);
  });

  test('never closes another patient’s resources, nor another response’s, nor one already closed earlier', () => {
    const otherPatient = stored.map((r) =>
      'subject' in r ? { ...r, subject: { reference: 'Patient/someone-else' } } : r
    ) as Resource[];
    expect(closingEntries(second, written, otherPatient)).toEqual(
      // Only the Task is still this patient's (its patient is in `for`, unchanged here).
      closingEntries(
        second,
        written,
        otherPatient.filter((r) => r.resourceType === 'Task')
      )
    );
    const withTask = otherPatient.map((r) =>
      r.resourceType === 'Task' ? { ...r, for: { reference: 'Patient/someone-else' } } : r
    );
    expect(closingEntries(second, written, withTask)).toEqual([]);

    const otherResponse = stored.map((r) => ({
      ...r,
      identifier: (r as ServiceRequest).identifier?.map((i) => ({ ...i, value: `x${i.value}` })),
    })) as Resource[];
    expect(closingEntries(second, written, otherResponse)).toEqual([]);

    const closedEarlier = stored.map((r) =>
      r.resourceType === 'ServiceRequest' ? { ...r, status: 'revoked' } : r
    ) as Resource[];
    expect(closingEntries(second, written, closedEarlier).map((e) => e.resource!.resourceType)).not.toContain(
      'ServiceRequest'
    );
    const done = stored.map((r) =>
      r.resourceType === 'ServiceRequest' ? { ...r, status: 'completed' } : r
    ) as Resource[];
    expect(closingEntries(second, written, done).map((e) => e.resource!.resourceType)).not.toContain(
      'ServiceRequest'
    );
  });

  test('a resource closed by this same version is written again unchanged (a resubmission is the same write)', () => {
    const afterwards = stored.map((r) => {
      const closed = closing.find((e) =>
        e.request!.ifNoneExist!.endsWith(`|${(r as ServiceRequest).identifier?.[0]?.value}`)
      );
      return closed ? { ...(closed.resource as Resource), id: r.id } : r;
    });
    expect(closingEntries(second, written, afterwards)).toEqual(closing);
  });

  test('a Condition keeps R4 con-3/con-5: refuted with clinicalStatus inactive, a note naming the withdrawn answer, its profile', () => {
    const re = stored.find(
      (r) => r.resourceType === 'Condition' && (r as Condition).identifier?.[0]?.value === 'sc-amended-R1-re'
    ) as Condition;
    const notWritten = written.filter(
      (e) => (e.resource as Condition).identifier?.[0]?.value !== 'sc-amended-R1-re'
    );
    const [entry] = closingEntries(second, notWritten, [re]);
    const condition = entry!.resource as Condition;
    expect(condition.verificationStatus?.coding?.[0]?.code).toBe('refuted');
    expect(condition.clinicalStatus?.coding?.[0]?.code).toBe('inactive');
    expect(condition.note).toEqual([
      {
        text: 'The amended QuestionnaireResponse/sc-amended (authored 2026-11-25T12:00:00Z) no longer supports this Condition: the answers it rested on were changed or withdrawn (peu-sperm-seen).',
        time: '2026-11-25T12:00:00Z',
      },
    ]);
    const deps = testEngine();
    for (const profile of condition.meta!.profile!) {
      expect(
        deps.validator.validate(condition, { profile }).issues.filter((i) => i.severity === 'error')
      ).toEqual([]);
    }
  });

  test('anything in `previous` that is not a resource is a structural failure, never a crash', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.array(fc.anything()), fc.object()),
          {
            minLength: 1,
            maxLength: 4,
          }
        ),
        (junk) => {
          const bad = junk.filter(
            (j) =>
              typeof j !== 'object' ||
              j === null ||
              Array.isArray(j) ||
              typeof (j as { resourceType?: unknown }).resourceType !== 'string'
          );
          try {
            closingEntries(second, written, junk as unknown as Resource[]);
            expect(bad).toEqual([]);
          } catch (err) {
            expect(bad.length).toBeGreaterThan(0);
            expect((err as ReFhirError).kind).toBe('structural');
          }
        }
      )
    );
  });
});

describe('previousWritesSearches', () => {
  test('an amended response: one search per closable type, by subject and key system', () => {
    expect(previousWritesSearches(second)).toEqual(
      CLOSABLE_TYPES.map((resourceType) => ({
        resourceType,
        query: { subject: 'Patient/sc-amended', identifier: `${KEY_SYSTEM}|` },
      }))
    );
  });

  test('none for a first submission, or without a subject or an id', () => {
    expect(previousWritesSearches(first)).toEqual([]);
    expect(previousWritesSearches({ ...second, subject: undefined })).toEqual([]);
    expect(previousWritesSearches({ ...second, id: undefined })).toEqual([]);
  });
});

describe('evaluateResponse with previous', () => {
  test('without `previous` an amendment keeps its warning; with it, the closing writes replace the warning', () => {
    const blind = evaluateResponse(second, testEngine());
    const informed = evaluateResponse(second, testEngine(), { previous: stored });
    expect(
      blind.issues.some((i) => i.details?.text?.startsWith('The amended response no longer supports'))
    ).toBe(blind.issues.some((i) => i.severity === 'warning'));
    expect(informed.issues.map((i) => i.details?.text)).toContainEqual(
      expect.stringMatching(/^Closed \d+ resources/)
    );
    expect(informed.bundle.entry!.length).toBe(blind.bundle.entry!.length + closing().length);
  });
});

function closing(): ReturnType<typeof closingEntries> {
  return closingEntries(second, written, stored);
}
