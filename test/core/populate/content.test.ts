import type { Questionnaire, ValueSet } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The population searches in the shipped Questionnaire match by our ValueSets: every code an
 * `x-fhir-query` searches for is in the expansion of the ValueSet its description names, so the
 * content's two copies of a code list cannot drift apart.
 */
const read = <T>(path: string): T => JSON.parse(readFileSync(join(__dirname, '../../..', path), 'utf8')) as T;
const questionnaire = read<Questionnaire>('profiles/Questionnaire-re-evaluation.json');
const expansion = (name: string): Set<string> =>
  new Set(
    (read<ValueSet>(`valuesets/ValueSet-${name}.json`).expansion?.contains ?? []).map(
      (c) => `${c.system}|${c.code}`
    )
  );

const queries = (questionnaire.extension ?? [])
  .filter((e) => e.valueExpression?.language === 'application/x-fhir-query')
  .map((e) => e.valueExpression!);

test('the content declares the patient launch context and its searches', () => {
  expect(queries.map((q) => q.name)).toEqual([
    'diabetesConditions',
    'msConditions',
    'sciConditions',
    'turpProcedures',
    'turpHistory',
    'prostatectomyProcedures',
    'prostatectomyHistory',
    'riskMedicationRequests',
    'riskMedicationStatements',
  ]);
});

test.each(queries.map((q) => [q.name!, q] as const))(
  '%s searches only codes of the ValueSet it names',
  (_, q) => {
    const valueSet = /ValueSet (re-[a-z0-9-]+)/.exec(q.description ?? '')?.[1];
    expect(valueSet).toBeDefined();
    const codes = new URLSearchParams(q.expression!.split('?')[1]).get('code')!.split(',');
    expect(codes.length).toBeGreaterThan(0);
    const allowed = expansion(valueSet!);
    expect(codes.filter((c) => !allowed.has(c))).toEqual([]);
    // Every search is bound to the launch patient.
    expect(q.expression).toContain('patient=Patient/{{%patient.id}}');
  }
);

test('the risk-medication searches cover the whole ValueSet', () => {
  const meds = queries.find((q) => q.name === 'riskMedicationRequests')!;
  const codes = new URLSearchParams(meds.expression!.split('?')[1]).get('code')!.split(',');
  expect(new Set(codes)).toEqual(expansion('re-risk-medications'));
});
