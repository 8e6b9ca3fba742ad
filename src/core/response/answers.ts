import type {
  Attachment,
  Coding,
  Quantity,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
  Reference,
} from '@medplum/fhirtypes';
import { isObject } from '../json';
import { arrayOf } from './values';

/**
 * One item of a QuestionnaireResponse, found by walking its nesting (groups' `item`, and questions'
 * `answer.item`). Instances of a repeating group are separate refs with the same linkId, so callers
 * can keep each instance's answers together.
 */
export interface ResponseItemRef {
  /** The item's linkId (empty string when the item has none). */
  readonly linkId: string;
  /** The item itself, as found in the response (not copied). */
  readonly item: QuestionnaireResponseItem;
  /** FHIRPath location, e.g. `QuestionnaireResponse.item[2].item[0]`. */
  readonly expression: string;
  /** The enclosing item, if any. */
  readonly parent: ResponseItemRef | undefined;
  /** When nested under an answer of `parent`, that answer's index. */
  readonly parentAnswerIndex: number | undefined;
  /** Nested items: first those under `item`, then those under each answer in order. */
  readonly children: readonly ResponseItemRef[];
}

/** A QuestionnaireResponse indexed by linkId. Build it once with {@link indexResponse}. */
export interface ResponseIndex {
  /** The indexed response. */
  readonly response: QuestionnaireResponse;
  /** Top-level items. */
  readonly roots: readonly ResponseItemRef[];
  /** Every item in document order. */
  readonly all: readonly ResponseItemRef[];
  /**
   * Items with this linkId, in document order; with `within`, only those nested inside it
   * (e.g. inside one instance of a repeating group).
   */
  items(linkId: string, within?: ResponseItemRef): readonly ResponseItemRef[];
  /** Answers (with or without a value) of every item with this linkId, in document order. */
  answers(linkId: string, within?: ResponseItemRef): readonly QuestionnaireResponseItemAnswer[];
}

/**
 * Indexes a QuestionnaireResponse by linkId through every level of nesting. Never positional:
 * items are found by linkId wherever the response puts them.
 * See: https://hl7.org/fhir/R4/questionnaireresponse.html
 * @param response - the QuestionnaireResponse (read, never modified).
 * @returns the index.
 */
export function indexResponse(response: QuestionnaireResponse): ResponseIndex {
  const all: ResponseItemRef[] = [];
  const byLinkId = new Map<string, ResponseItemRef[]>();

  const walk = (
    items: unknown,
    base: string,
    parent: ResponseItemRef | undefined,
    parentAnswerIndex: number | undefined
  ): ResponseItemRef[] => {
    const refs: ResponseItemRef[] = [];
    arrayOf(items).forEach((raw, index) => {
      if (!isObject(raw)) {
        return;
      }
      const item = raw as unknown as QuestionnaireResponseItem;
      const children: ResponseItemRef[] = [];
      const ref: ResponseItemRef = {
        linkId: typeof item.linkId === 'string' ? item.linkId : '',
        item,
        expression: `${base}.item[${index}]`,
        parent,
        parentAnswerIndex,
        children,
      };
      all.push(ref);
      const list = byLinkId.get(ref.linkId);
      if (list) {
        list.push(ref);
      } else {
        byLinkId.set(ref.linkId, [ref]);
      }
      children.push(...walk(item.item, ref.expression, ref, undefined));
      arrayOf(item.answer).forEach((answer, a) => {
        if (isObject(answer)) {
          children.push(...walk(answer.item, `${ref.expression}.answer[${a}]`, ref, a));
        }
      });
      refs.push(ref);
    });
    return refs;
  };

  const roots = walk(
    isObject(response) ? response.item : undefined,
    'QuestionnaireResponse',
    undefined,
    undefined
  );

  const items = (linkId: string, within?: ResponseItemRef): readonly ResponseItemRef[] => {
    const found = byLinkId.get(linkId) ?? [];
    return within ? found.filter((r) => isInside(r, within)) : found;
  };

  return {
    response,
    roots,
    all,
    items,
    answers: (linkId, within) =>
      items(linkId, within).flatMap(
        (r) => arrayOf(r.item.answer).filter(isObject) as QuestionnaireResponseItemAnswer[]
      ),
  };
}

function isInside(ref: ResponseItemRef, ancestor: ResponseItemRef): boolean {
  for (let p = ref.parent; p; p = p.parent) {
    if (p === ancestor) {
      return true;
    }
  }
  return false;
}

function valuesOf<T>(
  index: ResponseIndex,
  linkId: string,
  within: ResponseItemRef | undefined,
  key: keyof QuestionnaireResponseItemAnswer,
  accept: (v: unknown) => boolean
): T[] {
  const result: T[] = [];
  for (const answer of index.answers(linkId, within)) {
    const v = answer[key];
    if (v !== undefined && accept(v)) {
      result.push(v as T);
    }
  }
  return result;
}

const isBoolean = (v: unknown): boolean => typeof v === 'boolean';
const isNumber = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const isString = (v: unknown): boolean => typeof v === 'string';

/**
 * Every `valueBoolean` answered for a linkId (optionally within one item, e.g. a group instance).
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function booleanAnswers(index: ResponseIndex, linkId: string, within?: ResponseItemRef): boolean[] {
  return valuesOf(index, linkId, within, 'valueBoolean', isBoolean);
}

/**
 * The first `valueBoolean` answered for a linkId in document order, or undefined.
 * For items inside a repeating group pass `within` (one group instance).
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function booleanAnswer(
  index: ResponseIndex,
  linkId: string,
  within?: ResponseItemRef
): boolean | undefined {
  return booleanAnswers(index, linkId, within)[0];
}

/**
 * Every `valueDecimal` answered for a linkId.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function decimalAnswers(index: ResponseIndex, linkId: string, within?: ResponseItemRef): number[] {
  return valuesOf(index, linkId, within, 'valueDecimal', isNumber);
}

/**
 * The first `valueDecimal` answered for a linkId, or undefined.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function decimalAnswer(
  index: ResponseIndex,
  linkId: string,
  within?: ResponseItemRef
): number | undefined {
  return decimalAnswers(index, linkId, within)[0];
}

/**
 * Every `valueInteger` answered for a linkId.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function integerAnswers(index: ResponseIndex, linkId: string, within?: ResponseItemRef): number[] {
  return valuesOf(index, linkId, within, 'valueInteger', (v) => isNumber(v) && Number.isInteger(v));
}

/**
 * The first `valueInteger` answered for a linkId, or undefined.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function integerAnswer(
  index: ResponseIndex,
  linkId: string,
  within?: ResponseItemRef
): number | undefined {
  return integerAnswers(index, linkId, within)[0];
}

/**
 * Every `valueString` answered for a linkId.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function stringAnswers(index: ResponseIndex, linkId: string, within?: ResponseItemRef): string[] {
  return valuesOf(index, linkId, within, 'valueString', isString);
}

/**
 * The first `valueString` answered for a linkId, or undefined.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function stringAnswer(
  index: ResponseIndex,
  linkId: string,
  within?: ResponseItemRef
): string | undefined {
  return stringAnswers(index, linkId, within)[0];
}

/**
 * The first `valueDate` answered for a linkId (FHIR date string), or undefined.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function dateAnswer(
  index: ResponseIndex,
  linkId: string,
  within?: ResponseItemRef
): string | undefined {
  return valuesOf<string>(index, linkId, within, 'valueDate', isString)[0];
}

/**
 * The first `valueDateTime` answered for a linkId (FHIR dateTime string), or undefined.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function dateTimeAnswer(
  index: ResponseIndex,
  linkId: string,
  within?: ResponseItemRef
): string | undefined {
  return valuesOf<string>(index, linkId, within, 'valueDateTime', isString)[0];
}

/**
 * The first `valueTime` answered for a linkId, or undefined.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function timeAnswer(
  index: ResponseIndex,
  linkId: string,
  within?: ResponseItemRef
): string | undefined {
  return valuesOf<string>(index, linkId, within, 'valueTime', isString)[0];
}

/**
 * The first `valueUri` answered for a linkId, or undefined.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function uriAnswer(
  index: ResponseIndex,
  linkId: string,
  within?: ResponseItemRef
): string | undefined {
  return valuesOf<string>(index, linkId, within, 'valueUri', isString)[0];
}

/**
 * Every `valueCoding` answered for a linkId (a repeating choice item gives several).
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function codingAnswers(index: ResponseIndex, linkId: string, within?: ResponseItemRef): Coding[] {
  return valuesOf(index, linkId, within, 'valueCoding', isObject);
}

/**
 * The first `valueCoding` answered for a linkId, or undefined.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function codingAnswer(
  index: ResponseIndex,
  linkId: string,
  within?: ResponseItemRef
): Coding | undefined {
  return codingAnswers(index, linkId, within)[0];
}

/**
 * The first `valueQuantity` answered for a linkId, or undefined.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function quantityAnswer(
  index: ResponseIndex,
  linkId: string,
  within?: ResponseItemRef
): Quantity | undefined {
  return valuesOf<Quantity>(index, linkId, within, 'valueQuantity', isObject)[0];
}

/**
 * The first `valueReference` answered for a linkId, or undefined.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function referenceAnswer(
  index: ResponseIndex,
  linkId: string,
  within?: ResponseItemRef
): Reference | undefined {
  return valuesOf<Reference>(index, linkId, within, 'valueReference', isObject)[0];
}

/**
 * The first `valueAttachment` answered for a linkId, or undefined.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function attachmentAnswer(
  index: ResponseIndex,
  linkId: string,
  within?: ResponseItemRef
): Attachment | undefined {
  return valuesOf<Attachment>(index, linkId, within, 'valueAttachment', isObject)[0];
}

/**
 * Whether the item with this linkId has at least one answer with a value.
 * @param index - the indexed response.
 * @param linkId - the item's linkId.
 * @param within - restrict to items nested inside this one.
 */
export function isAnswered(index: ResponseIndex, linkId: string, within?: ResponseItemRef): boolean {
  return index.answers(linkId, within).some((a) => Object.keys(a).some((k) => k.startsWith('value')));
}
