/**
 * The library's `cdsHook`: a CDS Hooks call answered in process, with the record given as prefetch
 * (docs/cds-hooks.md). Same cards as the HTTP service; no JWT, nothing fetched.
 */
import { cdsHook, createNodeEngine, isReFhirError } from '../src';
import { PATIENT, RECORD, responseSchemaErrors, searchset } from './helpers/cds-hooks';
import { counterIds, fixedClock } from './helpers/ids';

const engine = createNodeEngine({ clock: fixedClock(), newId: counterIds() });

describe('cdsHook (library)', () => {
  test('patient-view with a prefetched record: the R1 card, valid against the CDS Hooks schema', () => {
    const response = cdsHook(
      're-cds-patient-view',
      {
        hook: 'patient-view',
        hookInstance: 'h1',
        context: { userId: 'Practitioner/dr1', patientId: PATIENT },
        prefetch: { conditions: searchset([RECORD.paraplegia, RECORD.anejaculation]) },
      },
      { engine, launchUrl: 'https://re.example.org/launch.html' }
    );
    expect(responseSchemaErrors(response)).toEqual([]);
    expect(response.cards.map((c) => [c.source.topic?.code, c.links?.map((l) => l.type)])).toEqual([
      ['R1', ['absolute', 'smart']],
    ]);
  });

  test('without a launch URL, no app link is offered', () => {
    const response = cdsHook(
      're-cds-patient-view',
      {
        hook: 'patient-view',
        hookInstance: 'h1',
        context: { patientId: PATIENT },
        prefetch: { conditions: searchset([RECORD.paraplegia, RECORD.anejaculation]) },
      },
      { engine }
    );
    expect(response.cards.map((c) => c.links?.map((l) => l.type))).toEqual([['absolute']]);
  });

  test('an unknown service is a not-found ReFhirError', () => {
    let thrown: unknown;
    try {
      cdsHook('nope', {}, { engine });
    } catch (err) {
      thrown = err;
    }
    expect(isReFhirError(thrown) && thrown.kind).toBe('not-found');
  });
});
