import type {
  Coding,
  Extension,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
  Reference,
} from '@medplum/fhirtypes';
import { isHidden, YES_NO_SYSTEM } from './render-questionnaire';

/** R4 extension naming who entered one part of a response (here: the investigations group). */
export const ITEM_AUTHOR_URL = 'http://hl7.org/fhir/StructureDefinition/questionnaireresponse-author';

const MIN_VALUE_URL = 'http://hl7.org/fhir/StructureDefinition/minValue';
const MAX_VALUE_URL = 'http://hl7.org/fhir/StructureDefinition/maxValue';

/** Something the user must fix before the response is sent. */
export interface SubmissionProblem {
  /** The item concerned (its linkId; for the page's own fields, the field's id). */
  readonly linkId: string;
  /** The question as the user sees it. */
  readonly question: string;
  /** What is wrong, as a sentence. */
  readonly message: string;
}

/** The answers taken from the rendered form, and what stops them from being submitted. */
export interface CollectedAnswers {
  /** Response items in Questionnaire order: enabled, answered, typed as the original Questionnaire says. */
  readonly items: QuestionnaireResponseItem[];
  /** Required questions left empty and values out of range; empty when the response can be sent. */
  readonly problems: SubmissionProblem[];
}

/** Decides whether an item of the rendered Questionnaire is enabled in the rendered response. */
export type EnabledTest = (item: QuestionnaireItem, response: QuestionnaireResponse) => boolean;

/**
 * Turns what the form renderer holds into the items of the response to submit, and lists what the
 * user still has to fix. It walks the rendered Questionnaire (hidden items are not in it), so:
 * - an item the renderer does not show (its `enableWhen` is false) contributes nothing, even if it was
 *   answered before being hidden;
 * - empty answers (the renderer keeps `{}` for a cleared field) and empty groups are dropped, and so
 *   is an untouched instance of a repeating group; any other instance must be complete;
 * - Yes/No codings go back to `valueBoolean`, codings keep only system, version, code and display,
 *   and item text is the original Questionnaire's (the rendered copy carries units in it);
 * - every enabled required question must have an answer, integers must be whole, and `minValue`/
 *   `maxValue` hold.
 * See: https://hl7.org/fhir/R4/questionnaireresponse.html (qrs-1, qrs-2) and questionnaire.html
 * @param source - The original Questionnaire (types, texts, required flags, ranges).
 * @param rendered - The Questionnaire the renderer showed (from toRenderQuestionnaire).
 * @param response - The renderer's response.
 * @param isEnabledByRenderer - The renderer's own enableWhen test, so that "shown" and "sent" agree.
 */
export function collectAnswers(
  source: Questionnaire,
  rendered: Questionnaire,
  response: QuestionnaireResponse,
  isEnabledByRenderer: EnabledTest
): CollectedAnswers {
  const sourceItems = new Map<string, QuestionnaireItem>();
  indexItems(source.item, sourceItems);
  const isEnabled = enabledOrSend(isEnabledByRenderer);
  const visible = withoutDisabled(rendered, response, isEnabled);
  const problems: SubmissionProblem[] = [];
  const walk = (
    items: readonly QuestionnaireItem[],
    responseItems: readonly QuestionnaireResponseItem[],
    out: SubmissionProblem[]
  ): QuestionnaireResponseItem[] => {
    const result: QuestionnaireResponseItem[] = [];
    for (const item of items) {
      const original = sourceItems.get(item.linkId);
      if (!original || item.type === 'display' || !isEnabled(item, visible)) {
        continue;
      }
      const instances = responseItems.filter((r) => r.linkId === item.linkId);
      if (item.type === 'group') {
        result.push(...collectGroup(item, original, instances, walk, out));
      } else {
        const collected = collectQuestion(original, instances, out);
        if (collected) {
          result.push(collected);
        }
      }
    }
    return result;
  };
  const items = walk(rendered.item ?? [], visible.item ?? [], problems);
  return { items, problems };
}

/**
 * The renderer's test, except that an item it cannot decide on (its FHIRPath throws on an answer of
 * an unexpected type) counts as enabled: its answers then go to the server, which says what is
 * wrong, instead of being dropped without a word.
 */
function enabledOrSend(test: EnabledTest): EnabledTest {
  return (item, response) => {
    try {
      return test(item, response);
    } catch {
      return true;
    }
  };
}

/**
 * The response with the answers of disabled items removed, repeated until nothing changes: a
 * question that is itself disabled counts as unanswered for the `enableWhen` of others (R5 wording;
 * the renderer tests each item on its own, so a stale hidden answer could keep a dependant enabled).
 */
function withoutDisabled(
  rendered: Questionnaire,
  response: QuestionnaireResponse,
  isEnabled: EnabledTest
): QuestionnaireResponse {
  let current = response;
  // Each round removes at least one item or stops, and an item can only be removed once.
  for (let round = 0; round < 100; round++) {
    const pruned = pruneItems(rendered.item ?? [], current.item ?? [], current, isEnabled);
    if (pruned.removed === 0) {
      return current;
    }
    current = { ...current, item: pruned.items };
  }
  return current;
}

function pruneItems(
  items: readonly QuestionnaireItem[],
  responseItems: readonly QuestionnaireResponseItem[],
  response: QuestionnaireResponse,
  isEnabled: EnabledTest
): { items: QuestionnaireResponseItem[]; removed: number } {
  let removed = 0;
  const kept: QuestionnaireResponseItem[] = [];
  for (const responseItem of responseItems) {
    const item = items.find((i) => i.linkId === responseItem.linkId);
    if (!item) {
      kept.push(responseItem);
      continue;
    }
    if (!isEnabled(item, response)) {
      // Dropping an empty item changes no other item's enablement, so only content counts.
      removed += hasContent(responseItem) ? 1 : 0;
      continue;
    }
    if (responseItem.item) {
      const children = pruneItems(item.item ?? [], responseItem.item, response, isEnabled);
      removed += children.removed;
      kept.push({ ...responseItem, item: children.items });
    } else {
      kept.push(responseItem);
    }
  }
  return { items: kept, removed };
}

type Walk = (
  items: readonly QuestionnaireItem[],
  responseItems: readonly QuestionnaireResponseItem[],
  out: SubmissionProblem[]
) => QuestionnaireResponseItem[];

function collectGroup(
  item: QuestionnaireItem,
  original: QuestionnaireItem,
  instances: readonly QuestionnaireResponseItem[],
  walk: Walk,
  out: SubmissionProblem[]
): QuestionnaireResponseItem[] {
  const result: QuestionnaireResponseItem[] = [];
  // A non-repeating group is always on screen, so its required questions are required; an instance
  // of a repeating group counts only once the user has put something in it.
  const shown = original.repeats ? instances : [instances[0] ?? { linkId: item.linkId }];
  for (const instance of shown) {
    const instanceProblems: SubmissionProblem[] = [];
    const children = walk(item.item ?? [], instance.item ?? [], instanceProblems);
    if (children.length > 0 || !original.repeats) {
      out.push(...instanceProblems);
    }
    if (children.length > 0) {
      result.push({ linkId: original.linkId, ...textOf(original), item: children });
    }
  }
  if (original.required && result.length === 0) {
    out.push(problem(original, 'Fill in this section.'));
  }
  return result;
}

function collectQuestion(
  original: QuestionnaireItem,
  instances: readonly QuestionnaireResponseItem[],
  out: SubmissionProblem[]
): QuestionnaireResponseItem | undefined {
  const answers: QuestionnaireResponseItemAnswer[] = [];
  for (const instance of instances) {
    for (const answer of instance.answer ?? []) {
      const typed = typedAnswer(original, answer);
      if (typed) {
        answers.push(typed);
      }
    }
  }
  if (answers.length === 0) {
    if (original.required) {
      out.push(problem(original, 'An answer is required.'));
    }
    return undefined;
  }
  for (const answer of answers) {
    const message = valueProblem(original, answer);
    if (message) {
      out.push(problem(original, message));
    }
  }
  return { linkId: original.linkId, ...textOf(original), answer: answers };
}

/**
 * One renderer answer as the original item type: Yes/No codings of a boolean become `valueBoolean`;
 * codings are trimmed to the Coding elements (an expansion's `contains` entry carries more); empty
 * values give undefined.
 */
function typedAnswer(
  item: QuestionnaireItem,
  answer: QuestionnaireResponseItemAnswer
): QuestionnaireResponseItemAnswer | undefined {
  switch (item.type) {
    case 'boolean': {
      if (typeof answer.valueBoolean === 'boolean') {
        return { valueBoolean: answer.valueBoolean };
      }
      const coding = answer.valueCoding;
      if (coding?.system === YES_NO_SYSTEM && (coding.code === 'Y' || coding.code === 'N')) {
        return { valueBoolean: coding.code === 'Y' };
      }
      return undefined;
    }
    case 'decimal':
      return isNumber(answer.valueDecimal) ? { valueDecimal: answer.valueDecimal } : undefined;
    case 'integer':
      return isNumber(answer.valueInteger) ? { valueInteger: answer.valueInteger } : undefined;
    case 'date':
      return answer.valueDate ? { valueDate: answer.valueDate } : undefined;
    case 'dateTime':
      return answer.valueDateTime ? { valueDateTime: answer.valueDateTime } : undefined;
    case 'time':
      return answer.valueTime ? { valueTime: answer.valueTime } : undefined;
    case 'string':
    case 'text':
      return answer.valueString ? { valueString: answer.valueString } : undefined;
    case 'choice':
    case 'open-choice':
      if (answer.valueCoding?.code) {
        return { valueCoding: codingOnly(answer.valueCoding) };
      }
      return answer.valueString ? { valueString: answer.valueString } : undefined;
    default:
      return firstValue(answer);
  }
}

function valueProblem(item: QuestionnaireItem, answer: QuestionnaireResponseItemAnswer): string | undefined {
  const value = item.type === 'integer' ? answer.valueInteger : answer.valueDecimal;
  if (value === undefined) {
    return undefined;
  }
  if (item.type === 'integer' && !Number.isInteger(value)) {
    return 'Enter a whole number.';
  }
  const min = numericExtension(item, MIN_VALUE_URL);
  const max = numericExtension(item, MAX_VALUE_URL);
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    if (min !== undefined && max !== undefined) {
      return `Enter a value from ${min} to ${max}.`;
    }
    return min !== undefined ? `Enter a value of at least ${min}.` : `Enter a value of at most ${max}.`;
  }
  return undefined;
}

/** Options of buildResponse: everything the response needs besides the answers. */
export interface ResponseContext {
  /** The original Questionnaire (its canonical url|version goes into the response). */
  readonly questionnaire: Questionnaire;
  /** The items from collectAnswers. */
  readonly items: QuestionnaireResponseItem[];
  /** A fresh logical id: the engine keys the Conditions it writes on it. */
  readonly id: string;
  /** When the response was completed (ISO 8601 with a time zone). */
  readonly authored: string;
  /** The patient the response is about. */
  readonly subject: Reference;
  /** Who completed the response. */
  readonly author?: Reference;
  /** Who entered one group (linkId), e.g. the investigations entered by a practitioner. */
  readonly groupAuthors?: readonly { readonly linkId: string; readonly author: Reference }[];
}

/**
 * Builds the completed QuestionnaireResponse to submit.
 * See: https://hl7.org/fhir/R4/questionnaireresponse.html and the `questionnaireresponse-author`
 * extension (https://hl7.org/fhir/R4/extension-questionnaireresponse-author.html).
 * @param context - Answers, identity and authorship.
 * @returns The response, status `completed`, pointing at the Questionnaire as `url|version` (without
 *   `item` when there is no answer).
 */
export function buildResponse(context: ResponseContext): QuestionnaireResponse {
  const { questionnaire } = context;
  const canonical = questionnaire.version
    ? `${questionnaire.url}|${questionnaire.version}`
    : questionnaire.url;
  const groupAuthors = new Map((context.groupAuthors ?? []).map((g) => [g.linkId, g.author]));
  const items = context.items.map((item) => {
    const author = groupAuthors.get(item.linkId);
    if (!author) {
      return item;
    }
    const extension: Extension = { url: ITEM_AUTHOR_URL, valueReference: author };
    return { ...item, extension: [...(item.extension ?? []), extension] };
  });
  return {
    resourceType: 'QuestionnaireResponse',
    id: context.id,
    questionnaire: canonical,
    status: 'completed',
    subject: context.subject,
    authored: context.authored,
    // The page only builds Patient, Practitioner and PractitionerRole references (parseReference).
    ...(context.author ? { author: context.author as QuestionnaireResponse['author'] } : {}),
    // An empty array is not valid FHIR JSON: a response with no answer has no `item`.
    ...(items.length > 0 ? { item: items } : {}),
  };
}

/** A literal reference typed by the user, or what is wrong with it. */
export type ParsedReference = { ok: true; reference: Reference } | { ok: false; message: string };

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Reads a relative literal reference such as `Patient/123` of one of the allowed types.
 * See: https://hl7.org/fhir/R4/references.html#literal and the `id` datatype.
 * @param input - What the user typed.
 * @param types - Resource types allowed.
 * @param display - An optional display name to put on the reference.
 */
export function parseReference(input: string, types: readonly string[], display?: string): ParsedReference {
  const text = input.trim();
  const [type, id, ...rest] = text.split('/');
  if (!type || !id || rest.length > 0 || !types.includes(type) || !ID_PATTERN.test(id)) {
    return { ok: false, message: `Enter a reference such as ${types[0]}/123 (${types.join(' or ')}).` };
  }
  const name = display?.trim();
  return {
    ok: true,
    reference: name ? { reference: `${type}/${id}`, display: name } : { reference: `${type}/${id}` },
  };
}

function hasContent(item: QuestionnaireResponseItem): boolean {
  return (
    (item.answer ?? []).some((a) => firstValue(a) !== undefined || (a.item ?? []).some(hasContent)) ||
    (item.item ?? []).some(hasContent)
  );
}

function indexItems(
  items: readonly QuestionnaireItem[] | undefined,
  out: Map<string, QuestionnaireItem>
): void {
  for (const item of items ?? []) {
    if (!isHidden(item)) {
      out.set(item.linkId, item);
      indexItems(item.item, out);
    }
  }
}

function problem(item: QuestionnaireItem, message: string): SubmissionProblem {
  return { linkId: item.linkId, question: item.text ?? item.linkId, message };
}

function textOf(item: QuestionnaireItem): { text?: string } {
  return item.text ? { text: item.text } : {};
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function numericExtension(item: QuestionnaireItem, url: string): number | undefined {
  const ext = (item.extension ?? []).find((e) => e.url === url);
  return ext?.valueInteger ?? ext?.valueDecimal;
}

function codingOnly(coding: Coding): Coding {
  const out: Coding = {};
  if (coding.system) {
    out.system = coding.system;
  }
  if (coding.version) {
    out.version = coding.version;
  }
  out.code = coding.code;
  if (coding.display) {
    out.display = coding.display;
  }
  return out;
}

function firstValue(answer: QuestionnaireResponseItemAnswer): QuestionnaireResponseItemAnswer | undefined {
  const key = Object.keys(answer).find((k) => k.startsWith('value'));
  if (!key) {
    return undefined;
  }
  const value = (answer as Record<string, unknown>)[key];
  return value === undefined || value === null || value === '' ? undefined : { [key]: value };
}
