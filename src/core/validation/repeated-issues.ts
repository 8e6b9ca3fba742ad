import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { sameItems } from '../json';

/**
 * The issues of `found` whose {@link issueKey} is that of no issue of `earlier`. A few of each (the
 * usual case: the profile pass's Medplum warnings repeat the base pass's) are compared field by
 * field, which builds no key string (issue 13): equal fields make equal keys. An issue with no equal
 * is still asked by key (fields that differ can join to one key when a text holds a separator), and
 * more issues than a few are asked by key only, in one set (linear).
 */
export function notRepeated(
  found: readonly OperationOutcomeIssue[],
  earlier: readonly OperationOutcomeIssue[]
): OperationOutcomeIssue[] {
  let keys: Set<string> | undefined;
  const pairwise = found.length * earlier.length <= PAIRWISE;
  const kept: OperationOutcomeIssue[] = [];
  for (const i of found) {
    if (pairwise && earlier.some((e) => sameFields(e, i))) {
      continue;
    }
    keys ??= new Set(earlier.map(issueKey));
    if (!keys.has(issueKey(i))) {
      kept.push(i);
    }
  }
  return kept;
}

/** Up to this many pairs (found × earlier), {@link notRepeated} compares fields before building keys. */
const PAIRWISE = 64;

/** True when two issues have the same severity, code, text and expressions (and so the same {@link issueKey}). */
function sameFields(a: OperationOutcomeIssue, b: OperationOutcomeIssue): boolean {
  if (a.severity !== b.severity || a.code !== b.code || (a.details?.text ?? '') !== (b.details?.text ?? '')) {
    return false;
  }
  return sameItems(a.expression ?? NO_EXPRESSION, b.expression ?? NO_EXPRESSION);
}

const NO_EXPRESSION: readonly string[] = [];

/** What makes two issues the same for the profile pass's de-duplication. */
export function issueKey(i: OperationOutcomeIssue): string {
  return `${i.severity}\u0000${i.code}\u0000${i.details?.text ?? ''}\u0000${(i.expression ?? []).join(',')}`;
}
