import type {
  Coding,
  Quantity,
  QuestionnaireItem,
  QuestionnaireResponseItemAnswer,
} from '@medplum/fhirtypes';
import { isObject } from '../json';

/**
 * Converts one expression result into an answer of the item's type, or explains why it cannot.
 * Only the value's own type is accepted (no string-to-number parsing, no unit conversion): a
 * pre-filled answer must be what the record says.
 */
export function toAnswer(
  item: QuestionnaireItem,
  value: unknown
): { answer: QuestionnaireResponseItemAnswer } | { reason: string } {
  switch (item.type) {
    case 'boolean':
      return typeof value === 'boolean' ? { answer: { valueBoolean: value } } : mismatch(item, value);
    case 'decimal':
      if (typeof value === 'number') {
        return { answer: { valueDecimal: value } };
      }
      return isQuantity(value) ? { answer: { valueDecimal: value.value } } : mismatch(item, value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value)
        ? { answer: { valueInteger: value } }
        : mismatch(item, value);
    case 'string':
    case 'text':
      return typeof value === 'string' ? { answer: { valueString: value } } : mismatch(item, value);
    case 'date':
      return typeof value === 'string' && /^\d{4}(-\d{2}(-\d{2})?)?$/.test(value)
        ? { answer: { valueDate: value } }
        : mismatch(item, value);
    case 'dateTime':
      return typeof value === 'string' ? { answer: { valueDateTime: value } } : mismatch(item, value);
    case 'quantity':
      return isQuantity(value) ? { answer: { valueQuantity: pickQuantity(value) } } : mismatch(item, value);
    case 'choice':
    case 'open-choice':
      if (isCoding(value)) {
        return { answer: { valueCoding: pickCoding(value) } };
      }
      return item.type === 'open-choice' && typeof value === 'string'
        ? { answer: { valueString: value } }
        : mismatch(item, value);
    default:
      return { reason: `items of type ${item.type} are not pre-filled` };
  }
}

function mismatch(item: QuestionnaireItem, value: unknown): { reason: string } {
  const got = isObject(value) ? 'an object' : typeof value;
  return { reason: `the expression gave ${got}, which is not an answer of type ${item.type}` };
}

export function isQuantity(value: unknown): value is Quantity & { value: number } {
  return isObject(value) && typeof value.value === 'number';
}

function isCoding(value: unknown): value is Coding {
  return isObject(value) && typeof value.code === 'string';
}

/** A Coding's identifying elements only (a record's Coding may carry extensions or `userSelected`). */
function pickCoding(c: Coding): Coding {
  return {
    ...(c.system !== undefined ? { system: c.system } : {}),
    ...(c.version !== undefined ? { version: c.version } : {}),
    code: c.code,
    ...(c.display !== undefined ? { display: c.display } : {}),
  };
}

function pickQuantity(q: Quantity): Quantity {
  return {
    value: q.value,
    ...(q.unit !== undefined ? { unit: q.unit } : {}),
    ...(q.system !== undefined ? { system: q.system } : {}),
    ...(q.code !== undefined ? { code: q.code } : {}),
  };
}
