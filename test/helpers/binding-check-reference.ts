import type { Coding, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue } from '../../src/core/outcomes';
import type { ElementNode } from '../../src/core/validation/element-tree';
import type { MemberOf } from '../../src/core/validation/types';
import type { Visit } from '../../src/core/validation/walk';

// The required-binding check at one value as it was before issue 13's fifth round (a closure and
// a filtered array per value), frozen as the oracle of bindings.ts's check
// (test/core/validation/bindings-check.test.ts). Not to be changed.

const CODED_TYPES = new Set(['code', 'Coding', 'CodeableConcept']);

function bound(definition: ElementNode, type: string): boolean {
  const binding = definition.binding;
  return binding?.strength === 'required' && !!binding.valueSet && CODED_TYPES.has(type);
}

export function referenceBindingCheck(memberOf: MemberOf, visit: Visit, out: OperationOutcomeIssue[]): void {
  if (!bound(visit.node, visit.type)) {
    return;
  }
  const valueSet = visit.node.binding!.valueSet!;
  const unknown = (): OperationOutcomeIssue =>
    issue(
      'information',
      'not-supported',
      `Required binding to ${valueSet} could not be checked: the ValueSet is not available`,
      visit.location
    );
  if (visit.type === 'code') {
    if (typeof visit.value !== 'string') {
      return;
    }
    const member = memberOf(valueSet, undefined, visit.value);
    if (member === undefined) {
      out.push(unknown());
    } else if (!member) {
      out.push(
        issue(
          'error',
          'code-invalid',
          `Code "${visit.value}" is not in the required ValueSet ${valueSet}`,
          visit.location
        )
      );
    }
    return;
  }
  if (typeof visit.value !== 'object' || visit.value === null) {
    return;
  }
  const codings: Coding[] =
    visit.type === 'Coding'
      ? [visit.value as Coding]
      : Array.isArray((visit.value as { coding?: unknown }).coding)
        ? (visit.value as { coding: Coding[] }).coding
        : [];
  const coded = codings.filter((c) => typeof c === 'object' && c !== null && typeof c.code === 'string');
  if (coded.length === 0) {
    if (visit.type === 'CodeableConcept') {
      out.push(
        issue('error', 'code-invalid', `No coding from the required ValueSet ${valueSet}`, visit.location)
      );
    }
    return;
  }
  let anyUnknown = false;
  for (const coding of coded) {
    const member = memberOf(valueSet, coding.system, coding.code!);
    if (member) {
      return;
    }
    anyUnknown ||= member === undefined;
  }
  if (anyUnknown) {
    out.push(unknown());
    return;
  }
  const shown = coded.map((c) => `${c.system ?? ''}#${c.code}`).join(', ');
  out.push(
    issue(
      'error',
      'code-invalid',
      visit.type === 'Coding'
        ? `Code ${shown} is not in the required ValueSet ${valueSet}`
        : `None of the codings (${shown}) is in the required ValueSet ${valueSet}`,
      visit.location
    )
  );
}
