import type {
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
  Reference,
} from '@medplum/fhirtypes';
import type { Locator, Page } from 'playwright-core';

/**
 * Drives the clinician page the way a user does — clicking radio labels, typing numbers, typing into
 * an answer list and clicking the option — to give the answers of a QuestionnaireResponse. It reads
 * nothing from the page's internals: only labels, input names and visible options.
 */

const ITEM_AUTHOR_URL = 'http://hl7.org/fhir/StructureDefinition/questionnaireresponse-author';

/**
 * Fills the "Patient and author" section from a response's subject and author, and ticks the
 * investigations box when its investigations group names a practitioner author.
 * @param page - The page.
 * @param response - The scenario's response.
 */
export async function fillContext(page: Page, response: QuestionnaireResponse): Promise<void> {
  // After a SMART launch the patient is the launch's, and the field is read-only.
  const patientField = page.locator('#patient-ref');
  if (await patientField.isEditable()) {
    await typeInto(patientField, response.subject?.reference ?? '');
  }
  const author = response.author;
  const practitioner = author?.reference?.startsWith('Practitioner') ? author : groupAuthor(response);
  if (practitioner?.reference) {
    await typeInto(page.locator('#practitioner-ref'), practitioner.reference);
    if (practitioner.display) {
      await typeInto(page.locator('#practitioner-name'), practitioner.display);
    }
  }
  await page
    .locator(author?.reference?.startsWith('Patient') ? '#author-patient' : '#author-practitioner')
    .check();
  const checkbox = page.locator('#investigations-by-practitioner');
  if (groupAuthor(response)?.reference?.startsWith('Practitioner')) {
    await checkbox.check();
  } else {
    await checkbox.uncheck();
  }
}

/**
 * Answers every question the response answers, in Questionnaire order, so that each enableWhen
 * question is answered before the question it reveals.
 * @param page - The page, with the form loaded.
 * @param questionnaire - The Questionnaire (item types and answer options).
 * @param response - The answers to give.
 */
export async function fillAnswers(
  page: Page,
  questionnaire: Questionnaire,
  response: QuestionnaireResponse
): Promise<void> {
  const items = new Map<string, QuestionnaireItem>();
  const index = (list: readonly QuestionnaireItem[] | undefined): void => {
    for (const item of list ?? []) {
      items.set(item.linkId, item);
      index(item.item);
    }
  };
  index(questionnaire.item);
  await fillItems(page, items, response.item ?? [], 0);
}

async function fillItems(
  page: Page,
  items: ReadonlyMap<string, QuestionnaireItem>,
  responseItems: readonly QuestionnaireResponseItem[],
  instance: number
): Promise<void> {
  const seen = new Map<string, number>();
  for (const responseItem of responseItems) {
    const item = items.get(responseItem.linkId);
    if (!item) {
      throw new Error(`linkId ${responseItem.linkId} is not in the Questionnaire`);
    }
    if (item.type === 'group') {
      const n = seen.get(item.linkId) ?? 0;
      seen.set(item.linkId, n + 1);
      if (item.repeats && n > 0) {
        await page.getByText(`Add Group: ${item.text}`).click();
      }
      await fillItems(page, items, responseItem.item ?? [], item.repeats ? n : instance);
      continue;
    }
    for (const answer of responseItem.answer ?? []) {
      await answerQuestion(page, item, answer, instance);
    }
  }
}

async function answerQuestion(
  page: Page,
  item: QuestionnaireItem,
  answer: QuestionnaireResponseItemAnswer,
  instance: number
): Promise<void> {
  const { linkId } = item;
  if (answer.valueBoolean !== undefined) {
    await clickOption(
      page,
      linkId,
      answer.valueBoolean ? 0 : 1,
      answer.valueBoolean ? 'Yes' : 'No',
      instance
    );
  } else if (answer.valueInteger !== undefined || answer.valueDecimal !== undefined) {
    await typeInto(input(page, linkId, instance), String(answer.valueInteger ?? answer.valueDecimal));
  } else if (answer.valueDate !== undefined) {
    // A date input takes its value as a whole (typing follows the browser's locale format).
    await input(page, linkId, instance).fill(answer.valueDate);
  } else if (answer.valueString !== undefined) {
    await typeInto(input(page, linkId, instance), answer.valueString);
  } else if (answer.valueCoding) {
    const coding = answer.valueCoding;
    const optionIndex = (item.answerOption ?? []).findIndex(
      (o) => o.valueCoding?.code === coding.code && o.valueCoding?.system === coding.system
    );
    if (optionIndex >= 0) {
      const label = item.answerOption?.[optionIndex]?.valueCoding?.display ?? coding.code ?? '';
      await clickOption(page, linkId, optionIndex, label, instance);
    } else {
      await chooseFromList(page, linkId, coding.display ?? coding.code ?? '', instance);
    }
  } else {
    throw new Error(`no way to enter the answer of ${linkId}: ${JSON.stringify(answer)}`);
  }
}

/**
 * Clicks the label of a radio option (the renderer names options `<linkId>-option-<n>`), after
 * checking that the label says what the user means to click.
 */
async function clickOption(
  page: Page,
  linkId: string,
  option: number,
  label: string,
  instance: number
): Promise<void> {
  const target = page.locator(`label[for="${linkId}-option-${option}"]`).nth(instance);
  const text = (await target.innerText()).trim();
  if (text !== label) {
    throw new Error(`option ${option} of ${linkId} reads "${text}", expected "${label}"`);
  }
  await target.click();
}

/** Types into an answer list (a ValueSet expanded by the server), then clicks the matching option. */
async function chooseFromList(page: Page, linkId: string, display: string, instance: number): Promise<void> {
  const field = input(page, linkId, instance);
  await field.click();
  await field.pressSequentially(display.slice(0, 12));
  await page.getByRole('option', { name: display, exact: true }).click();
}

function input(page: Page, linkId: string, instance: number): Locator {
  return page.locator(`input[name="${linkId}"]`).nth(instance);
}

async function typeInto(field: Locator, text: string): Promise<void> {
  await field.click();
  await field.press('ControlOrMeta+a');
  await field.press('Backspace');
  await field.pressSequentially(text);
}

function groupAuthor(response: QuestionnaireResponse): Reference | undefined {
  for (const item of response.item ?? []) {
    const ext = (item.extension ?? []).find((e) => e.url === ITEM_AUTHOR_URL);
    if (ext?.valueReference) {
      return ext.valueReference;
    }
  }
  return undefined;
}

/** One answered question, by its path of linkIds (with the instance number of repeating groups). */
export interface AnswerEntry {
  readonly path: string;
  readonly answers: unknown[];
}

/**
 * The clinical content of a response as comparable entries: every answered question by its linkId
 * path, with its answers reduced to their values (codings to system, version, code and display).
 * Item ids, text, timestamps and the response's own id are left out.
 * @param response - A QuestionnaireResponse.
 */
export function clinicalAnswers(response: QuestionnaireResponse): AnswerEntry[] {
  const out: AnswerEntry[] = [];
  const walk = (items: readonly QuestionnaireResponseItem[] | undefined, prefix: string): void => {
    const counts = new Map<string, number>();
    for (const item of items ?? []) {
      const n = counts.get(item.linkId) ?? 0;
      counts.set(item.linkId, n + 1);
      const path = `${prefix}${item.linkId}[${n}]`;
      if (item.answer?.length) {
        out.push({ path, answers: item.answer.map(answerValue) });
      }
      walk(item.item, `${path}/`);
    }
  };
  walk(response.item, '');
  return out;
}

function answerValue(answer: QuestionnaireResponseItemAnswer): unknown {
  if (answer.valueCoding) {
    const { system, version, code, display } = answer.valueCoding;
    return { valueCoding: { system, version, code, display } };
  }
  const key = Object.keys(answer).find((k) => k.startsWith('value'));
  return key ? { [key]: (answer as Record<string, unknown>)[key] } : {};
}
