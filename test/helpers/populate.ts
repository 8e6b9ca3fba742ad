import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, Parameters, Patient } from '@medplum/fhirtypes';

/** The golden population scenarios: a patient's record and the expected SDC `$populate` output. */
export interface PopulateScenario {
  readonly name: string;
  readonly dir: string;
  readonly record: Bundle;
  readonly patient: Patient;
  /** The expected output Parameters (undefined until written with UPDATE_GOLDEN=1). */
  readonly expected: Parameters | undefined;
}

export const POPULATE_FIXTURES = path.join(__dirname, '..', 'fixtures', 'populate');

/**
 * Every scenario, by name. Resource ids are unique across scenarios (checked here), so that all records
 * can share one upstream server.
 */
export function populateScenarios(): PopulateScenario[] {
  const scenarios = fs
    .readdirSync(POPULATE_FIXTURES)
    .filter((n) => fs.statSync(path.join(POPULATE_FIXTURES, n)).isDirectory())
    .sort()
    .map((name) => {
      const dir = path.join(POPULATE_FIXTURES, name);
      const record = JSON.parse(fs.readFileSync(path.join(dir, 'record.json'), 'utf8')) as Bundle;
      const patient = record.entry!.find((e) => e.resource?.resourceType === 'Patient')!.resource as Patient;
      const expectedFile = path.join(dir, 'expected.json');
      const expected = fs.existsSync(expectedFile)
        ? (JSON.parse(fs.readFileSync(expectedFile, 'utf8')) as Parameters)
        : undefined;
      return { name, dir, record, patient, expected };
    });
  const ids = scenarios.flatMap((s) =>
    s.record.entry!.map((e) => `${e.resource!.resourceType}/${e.resource!.id}`)
  );
  const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (repeated.length > 0) {
    throw new Error(`Population fixtures share resource ids: ${repeated.join(', ')}`);
  }
  return scenarios;
}

/** Writes the expected output (only with UPDATE_GOLDEN=1; review the diff). */
export function writeExpected(scenario: PopulateScenario, output: Parameters): void {
  fs.writeFileSync(path.join(scenario.dir, 'expected.json'), `${JSON.stringify(output, null, 2)}\n`);
}
