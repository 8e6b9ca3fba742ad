import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { BundleFile } from '../../src/node/bundle-file';
import { indexTerminology, loadR4Terminology, terminologyPaths } from '../../src/node/definitions';

/**
 * The R4 terminology lookup reads single entries of `valuesets.json` and `v3-codesystems.json` through
 * a url index (issue 13) instead of parsing both files whole: the reference is the whole-file index
 * (the first ValueSet or CodeSystem with the url, valuesets.json first).
 */
describe('loadR4Terminology', () => {
  const whole = indexTerminology();

  test("the files are read entry by entry: each url's entries are found without the whole-file fallback", () => {
    const paths = terminologyPaths();
    expect(paths).toHaveLength(2);
    const files = paths!.map((path) => new BundleFile(path));
    for (const [url, resource] of whole) {
      const found = files
        .flatMap((f) => {
          const entries = f.entriesOfResourceUrl(url);
          expect(entries).toBeDefined(); // undefined would send the lookup to the whole files
          return entries!;
        })
        .map((e) => e.resource as ValueSet | CodeSystem)
        .find((r) => r.resourceType === 'ValueSet' || r.resourceType === 'CodeSystem');
      expect(found).toEqual(resource);
    }
    expect(files.map((f) => f.wholeReads)).toEqual([0, 0]); // read in windows and entries, never whole
  });

  test('gives exactly the resource of the whole-file index for every url in the files', () => {
    expect(whole.size).toBeGreaterThan(1_000);
    const lookup = loadR4Terminology();
    let n = 0;
    for (const [url, resource] of whole) {
      expect(lookup(url)).toEqual(resource);
      n++;
    }
    expect(n).toBe(whole.size);
  });

  test('misses what the files do not hold as a ValueSet or CodeSystem url, nested urls included', () => {
    const lookup = loadR4Terminology();
    const misses = [
      'http://hl7.org/fhir/ValueSet/not-a-value-set',
      'http://hl7.org/fhir/ValueSet/',
      '',
      // Extension urls and fullUrls that are not the resource's url occur in the files, nested.
      'http://hl7.org/fhir/StructureDefinition/structuredefinition-wg',
      'http://hl7.org/fhir/CodeSystem/snomedct',
    ];
    for (const url of misses) {
      expect(whole.get(url)).toBeUndefined();
      expect(lookup(url)).toBeUndefined();
    }
  });

  test('a resource asked for twice is the same object (read once)', () => {
    const lookup = loadR4Terminology();
    const url = 'http://hl7.org/fhir/ValueSet/administrative-gender';
    const first = lookup(url);
    expect(first?.resourceType).toBe('ValueSet');
    expect(lookup(url)).toBe(first);
  });
});
