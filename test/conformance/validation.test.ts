import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { CONTENT } from '../../src/core/conformance/content';
import { contentFiles, ROOT } from '../helpers/content';
import type { Finding } from '../helpers/content-checks';
import { checkContent } from '../helpers/content-checks';

const GOOD = resolve(__dirname, '../fixtures/content-good');
const BAD = resolve(__dirname, '../fixtures/content-bad');

describe('shipped content (profiles/, profiles/examples/, valuesets/)', () => {
  test('every file passes every check: all validation tiers against base R4 and its shipped meta.profile, unique ids and urls, file names, JSON format, CRMI metadata, registration', () => {
    expect(checkContent(ROOT, CONTENT)).toEqual([]);
  });
});

describe('content harness on fixtures', () => {
  test('finds the fixture files, including examples', () => {
    expect(contentFiles(GOOD).map((f) => f.path)).toEqual([
      'profiles/StructureDefinition-re-fixture-condition.json',
      'profiles/examples/Condition-re-fixture-example.json',
      'valuesets/CodeSystem-re-fixture-finding.json',
      'valuesets/ValueSet-re-fixture-codes.json',
    ]);
  });

  test('good fixtures pass every check', () => {
    const registered = contentFiles(GOOD)
      .filter((f) => !f.path.startsWith('profiles/examples/'))
      .map((f) => f.resource);
    expect(checkContent(GOOD, registered)).toEqual([]);
  });

  test('each bad fixture is caught by the check for its defect', () => {
    const good = contentFiles(GOOD).map((f) => f.resource);
    const registered = [...good, ...contentFiles(BAD).map((f) => f.resource)];
    const findings = checkContent(BAD, registered);
    // The bad folder has no profile of its own; the Condition files name the good fixture's profile,
    // which is not shipped there, so they are checked against base R4 (and the profile test follows).
    const summary = (f: Finding): string => `${f.path} ${f.check}`;
    expect(findings.map(summary).sort()).toEqual(
      [
        'profiles/Condition-re-bad-invariant.json validation',
        'profiles/Condition-re-bad-schema.json validation',
        'profiles/Condition-wrong-name.json file-name',
        'valuesets/ValueSet-re-bad-format.json duplicate-url',
        'valuesets/ValueSet-re-bad-format.json json-format',
        'valuesets/ValueSet-re-bad-metadata.json metadata',
      ].sort()
    );
    expect(findings.find((f) => f.path.endsWith('re-bad-schema.json'))?.message).toBe(
      'base R4: Invalid dateTime format @ Condition.onsetDateTime'
    );
    expect(findings.find((f) => f.check === 'metadata')?.message).toBe('missing title, publisher');
  });

  test('profile and binding defects are caught when the profile is shipped alongside', () => {
    const files = [...contentFiles(GOOD), ...contentFiles(BAD)];
    const findings = checkContent(
      GOOD,
      files.map((f) => f.resource)
    );
    expect(findings).toEqual([]);
    // Validate the bad Condition files in a root that ships the profile: copy-free, via a merged root.
    const merged = checkMerged();
    expect(merged.map((f) => `${f.path} ${f.message}`).sort()).toEqual(
      [
        'profiles/Condition-re-bad-binding.json http://re-fhir.org/fhir/StructureDefinition/re-fixture-condition: None of the codings (http://re-fhir.org/fhir/CodeSystem/re-fixture-finding#nope) is in the required ValueSet http://re-fhir.org/fhir/ValueSet/re-fixture-codes @ Condition.code',
        'profiles/Condition-re-bad-profile.json http://re-fhir.org/fhir/StructureDefinition/re-fixture-condition: Missing required property @ Condition.code',
      ].sort()
    );
  });
});

function checkMerged(): Finding[] {
  const dir = mkdtempSync(resolve(tmpdir(), 're-fhir-content-'));
  try {
    cpSync(GOOD, dir, { recursive: true });
    for (const name of ['Condition-re-bad-binding.json', 'Condition-re-bad-profile.json']) {
      cpSync(resolve(BAD, 'profiles', name), resolve(dir, 'profiles', name));
    }
    const all = contentFiles(dir).map((f) => f.resource);
    return checkContent(dir, all).filter((f) => f.check === 'validation');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
