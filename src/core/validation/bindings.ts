import type { Coding, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { issue } from '../outcomes';
import type { TreeRegistry } from './trees';
import type { MemberOf } from './types';
import type { Visit } from './walk';
import { walkResource } from './walk';

/** The required-binding tier. */
export interface BindingTier {
  /**
   * Checks every coded value (code, Coding, CodeableConcept) under a `required` binding of the
   * definition being applied: the profile when given (its snapshot carries the base bindings too),
   * else the base definition; data types use their base definitions; extensions with a known
   * definition use it.
   */
  readonly validate: (resource: Resource, profile?: StructureDefinition) => OperationOutcomeIssue[];
}

const CODED_TYPES = new Set(['code', 'Coding', 'CodeableConcept']);

/**
 * Creates the required-binding tier. A code not in the ValueSet is an error (`code-invalid`);
 * a ValueSet the membership function does not know gives an `information` issue saying the
 * binding could not be checked, never a silent pass.
 * @param trees - Element trees.
 * @param memberOf - ValueSet membership (the terminology module's `memberOf`).
 * See: https://hl7.org/fhir/R4/terminologies.html#required
 */
export function createBindingTier(trees: TreeRegistry, memberOf: MemberOf): BindingTier {
  function check(visit: Visit, out: OperationOutcomeIssue[]): void {
    const binding = visit.node.binding;
    if (binding?.strength !== 'required' || !binding.valueSet || !CODED_TYPES.has(visit.type)) {
      return;
    }
    const valueSet = binding.valueSet;
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

  return {
    validate: (resource, profile) => {
      const out: OperationOutcomeIssue[] = [];
      const tree = profile ? trees.profile(profile) : trees.type(resource.resourceType);
      if (tree) {
        walkResource(resource, tree, trees, (visit) => check(visit, out));
      }
      return out;
    },
  };
}
