import type {
  Coding,
  Extension,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireItemEnableWhen,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
} from '@medplum/fhirtypes';

/** SDC/R4 extension that hides an item from the user (the calculated case features). */
export const HIDDEN_URL = 'http://hl7.org/fhir/StructureDefinition/questionnaire-hidden';
/** R4 extension giving the unit of a numeric item. */
export const UNIT_URL = 'http://hl7.org/fhir/StructureDefinition/questionnaire-unit';
/** R4 extension choosing the control a renderer uses for an item. */
export const ITEM_CONTROL_URL = 'http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl';

/** HL7 v2 table 0136 (yes/no indicator): the answer options a boolean question is rendered with. */
export const YES_NO_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0136';
/** The "Yes" option of a rendered boolean question. */
export const YES: Readonly<Coding> = { system: YES_NO_SYSTEM, code: 'Y', display: 'Yes' };
/** The "No" option of a rendered boolean question. */
export const NO: Readonly<Coding> = { system: YES_NO_SYSTEM, code: 'N', display: 'No' };

/**
 * Builds the copy of a Questionnaire that the form renderer shows. The renderer's own behaviour
 * would otherwise get three things wrong for a clinical form:
 * - hidden items (`questionnaire-hidden`, here the calculated case features) would be shown and,
 *   being calculated by the renderer's FHIRPath, sent with values the server only replaces; they are
 *   left out, and the server calculates them;
 * - a boolean is one checkbox, which cannot say an explicit "No" and, when required, must be ticked;
 *   booleans become Yes/No radio questions (HL7 v2-0136 codings), and `enableWhen` conditions on
 *   them compare those codings;
 * - an optional repeating group always shows one instance, so its required children would force an
 *   answer that does not exist (no current medication); there they are not required in the rendered
 *   copy, and the page enforces them for every instance the user fills in (see submission.ts).
 *
 * Units (`questionnaire-unit`) are appended to the question text, which the renderer would not show.
 * The title is left out: the renderer would show it as a second `<h1>` under the page's own (the page
 * shows it under its own heading for the form).
 * A group left with no item once its hidden items are out is left out too (a group must have items,
 * que-1, and an empty array is not valid FHIR JSON); an item of another type keeps no empty `item`.
 * The result is only for display: the submitted response is rebuilt against the original.
 * See: https://hl7.org/fhir/R4/questionnaire.html
 * @param source - The Questionnaire as published.
 * @returns A new Questionnaire; the source is not modified.
 */
export function toRenderQuestionnaire(source: Questionnaire): Questionnaire {
  const booleans = new Set<string>();
  collectBooleanLinkIds(source.item, booleans);
  const out: Questionnaire = { ...source, item: renderItems(source.item, booleans, false) };
  delete out.title;
  return out;
}

/**
 * Whether an item carries `questionnaire-hidden` = true.
 * @param item - A Questionnaire item.
 */
export function isHidden(item: QuestionnaireItem): boolean {
  return (item.extension ?? []).some((e) => e.url === HIDDEN_URL && e.valueBoolean === true);
}

/**
 * The unit label of a numeric item (`questionnaire-unit` display, else code), if any.
 * @param item - A Questionnaire item.
 */
export function unitLabel(item: QuestionnaireItem): string | undefined {
  const unit = (item.extension ?? []).find((e) => e.url === UNIT_URL)?.valueCoding;
  return unit?.display ?? unit?.code;
}

/**
 * The copy of a (pre-filled) response that the renderer can show against toRenderQuestionnaire's
 * Questionnaire: a boolean answer becomes its Yes/No coding, as the rendered question asks. Everything
 * else is kept (items the rendered copy leaves out are ignored by the renderer).
 * @param source - The Questionnaire as published.
 * @param response - A response to it, e.g. from `$populate`.
 * @returns A new response; the given one is not modified.
 */
export function toRenderResponse(
  source: Questionnaire,
  response: QuestionnaireResponse
): QuestionnaireResponse {
  const booleans = new Set<string>();
  collectBooleanLinkIds(source.item, booleans);
  const items = (
    list: readonly QuestionnaireResponseItem[] | undefined
  ): QuestionnaireResponseItem[] | undefined =>
    list?.map((item) => ({
      ...item,
      ...(item.item ? { item: items(item.item) } : {}),
      ...(item.answer
        ? {
            answer: item.answer.map((a) => {
              if (!booleans.has(item.linkId) || typeof a.valueBoolean !== 'boolean') {
                return a.item ? { ...a, item: items(a.item) } : a;
              }
              const { valueBoolean, ...rest } = a;
              return { ...rest, valueCoding: { ...(valueBoolean ? YES : NO) } };
            }),
          }
        : {}),
    }));
  return { ...response, item: items(response.item) };
}

function collectBooleanLinkIds(items: readonly QuestionnaireItem[] | undefined, out: Set<string>): void {
  for (const item of items ?? []) {
    if (item.type === 'boolean') {
      out.add(item.linkId);
    }
    collectBooleanLinkIds(item.item, out);
  }
}

function renderItems(
  items: readonly QuestionnaireItem[] | undefined,
  booleans: ReadonlySet<string>,
  inOptionalRepeatingGroup: boolean
): QuestionnaireItem[] | undefined {
  if (!items) {
    return undefined;
  }
  return items
    .filter((item) => !isHidden(item))
    .flatMap((item) => renderItem(item, booleans, inOptionalRepeatingGroup) ?? []);
}

/** The rendered item, or undefined for a group all of whose items are hidden. */
function renderItem(
  item: QuestionnaireItem,
  booleans: ReadonlySet<string>,
  inOptionalRepeatingGroup: boolean
): QuestionnaireItem | undefined {
  const out: QuestionnaireItem = { ...item };
  const unit = unitLabel(item);
  if (unit && item.text) {
    out.text = `${item.text} (${unit})`;
  }
  if (item.enableWhen) {
    out.enableWhen = item.enableWhen.map((ew) => renderEnableWhen(ew, booleans));
  }
  if (inOptionalRepeatingGroup && item.required) {
    delete out.required;
  }
  if (item.type === 'boolean') {
    out.type = 'choice';
    out.answerOption = [{ valueCoding: { ...YES } }, { valueCoding: { ...NO } }];
    out.extension = [...withoutItemControl(item.extension), radioButtonControl()];
  }
  const optionalRepeating = item.type === 'group' && item.repeats === true && item.required !== true;
  out.item = renderItems(item.item, booleans, inOptionalRepeatingGroup || optionalRepeating);
  if (!out.item?.length) {
    if (item.type === 'group' && item.item?.length) {
      return undefined;
    }
    delete out.item;
  }
  return out;
}

function renderEnableWhen(
  ew: QuestionnaireItemEnableWhen,
  booleans: ReadonlySet<string>
): QuestionnaireItemEnableWhen {
  if (!booleans.has(ew.question) || ew.answerBoolean === undefined || ew.operator === 'exists') {
    return ew;
  }
  const { answerBoolean, ...rest } = ew;
  return { ...rest, answerCoding: { ...(answerBoolean ? YES : NO) } };
}

function withoutItemControl(extensions: readonly Extension[] | undefined): Extension[] {
  return (extensions ?? []).filter((e) => e.url !== ITEM_CONTROL_URL);
}

function radioButtonControl(): Extension {
  return {
    url: ITEM_CONTROL_URL,
    valueCodeableConcept: {
      coding: [{ system: 'http://hl7.org/fhir/questionnaire-item-control', code: 'radio-button' }],
    },
  };
}
