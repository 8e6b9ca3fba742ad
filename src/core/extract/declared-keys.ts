import type { Extension, Questionnaire, QuestionnaireItem, QuestionnaireResponse } from '@medplum/fhirtypes';
import { SDC_EXTENSION } from '../constants';
import { compileFhirPath } from '../fhirpath/fhirpath';

/** A conditional key a template declares, with the template it belongs to. */
export interface DeclaredKey {
  readonly template: string;
  /** Type of the template resource. */
  readonly resourceType?: string;
  readonly ifNoneExist: string;
}

/**
 * The `ifNoneExist` keys of every templateExtract in the Questionnaire whose key can be computed from
 * the response alone (it reads only `%resource`, like `identifier=…|' + %resource.id + '-R6-ed'`).
 * Comparing them with the keys an extraction produced tells which resources an amended response no
 * longer supports. Keys that depend on an item's context are skipped: they cannot be known here.
 */
export function declaredKeys(questionnaire: Questionnaire, response: QuestionnaireResponse): DeclaredKey[] {
  const keys: DeclaredKey[] = [];
  const visit = (extensions: readonly Extension[] | undefined): void => {
    for (const ext of extensions ?? []) {
      if (ext.url !== SDC_EXTENSION.templateExtract) {
        continue;
      }
      const expression = ext.extension?.find((e) => e.url === 'ifNoneExist')?.valueString;
      const template = ext.extension?.find((e) => e.url === 'template')?.valueReference?.reference ?? '';
      if (!expression) {
        continue;
      }
      try {
        const [value] = compileFhirPath(expression)(response, { resource: response, rootResource: response });
        if (typeof value === 'string') {
          const resourceType = questionnaire.contained?.find((c) => `#${c.id}` === template)?.resourceType;
          keys.push({ template, resourceType, ifNoneExist: value });
        }
      } catch {
        // The key reads the item context: it cannot be computed without an item.
      }
    }
  };
  const walk = (items: readonly QuestionnaireItem[] | undefined): void => {
    for (const item of items ?? []) {
      visit(item.extension);
      walk(item.item);
    }
  };
  visit(questionnaire.extension);
  walk(questionnaire.item);
  return keys;
}
