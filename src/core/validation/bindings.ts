import type { Coding, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { issue } from '../outcomes';
import type { ElementNode } from './element-tree';
import type { TreeRegistry } from './trees';
import type { MemberOf } from './types';
import type { Visit } from './walk';
import { walkActing, walkResource } from './walk';
import { createWalkPlan } from './walk-plan';

/** The required-binding tier. */
export interface BindingTier {
  /**
   * Checks every coded value (code, Coding, CodeableConcept) under a `required` binding of the
   * definition being applied: the profile when given (its snapshot carries the base bindings too),
   * else the base definition; data types use their base definitions; extensions with a known
   * definition use it.
   */
  readonly validate: (resource: Resource, profile?: StructureDefinition) => OperationOutcomeIssue[];
  /** True when the check acts at a value of this definition and type (its walk plan's `acts`). */
  readonly acts: (definition: ElementNode, type: string) => boolean;
  /**
   * The check at one value of a walk over the base definition, adding its issues to `out`; a walk
   * over the same tree that shows it every value where {@link BindingTier.acts} holds, in walk order,
   * gives `validate(resource)`'s issues (`base-pass.ts` runs it in the invariant tier's walk).
   */
  readonly check: (visit: Visit, out: OperationOutcomeIssue[]) => void;
}

const CODED_TYPES = new Set(['code', 'Coding', 'CodeableConcept']);

/** Options of {@link createBindingTier}. */
export interface BindingTierOptions {
  /**
   * Walk only toward required bindings of coded elements (default true); false walks every value,
   * as before walk plans (kept for the differential test of the two).
   */
  readonly plans?: boolean;
}

const NONE: readonly unknown[] = [];

/** A coding the check asks about: an object with a string `code`. */
function isCoded(c: unknown): c is Coding & { code: string } {
  return typeof c === 'object' && c !== null && typeof (c as Coding).code === 'string';
}

/** The issue of a binding whose ValueSet the membership function does not know. */
function unchecked(valueSet: string, location: string): OperationOutcomeIssue {
  return issue(
    'information',
    'not-supported',
    `Required binding to ${valueSet} could not be checked: the ValueSet is not available`,
    location
  );
}

/** True when the check acts at a value of this definition and type. */
function bound(definition: ElementNode, type: string): boolean {
  const binding = definition.binding;
  return binding?.strength === 'required' && !!binding.valueSet && CODED_TYPES.has(type);
}

/**
 * Creates the required-binding tier. A code not in the ValueSet is an error (`code-invalid`);
 * a ValueSet the membership function does not know gives an `information` issue saying the
 * binding could not be checked, never a silent pass.
 * @param trees - Element trees.
 * The walk visits only the paths to required bindings (a walk plan, shared by every tree).
 * @param memberOf - ValueSet membership (the terminology module's `memberOf`).
 * @param options - Switches.
 * See: https://hl7.org/fhir/R4/terminologies.html#required
 */
export function createBindingTier(
  trees: TreeRegistry,
  memberOf: MemberOf,
  options: BindingTierOptions = {}
): BindingTier {
  const plan =
    options.plans === false
      ? undefined
      : createWalkPlan(trees, { acts: bound, nested: true, extensions: true });

  function check(visit: Visit, out: OperationOutcomeIssue[]): void {
    if (!bound(visit.node, visit.type)) {
      return;
    }
    const valueSet = visit.node.binding!.valueSet!;
    if (visit.type === 'code') {
      if (typeof visit.value !== 'string') {
        return;
      }
      const member = memberOf(valueSet, undefined, visit.value);
      if (member === undefined) {
        out.push(unchecked(valueSet, visit.location));
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
    // The codings with a code, in order, asked about without collecting them first (no array per
    // value, issue 13): the first member ends the check; the list is made only for an error.
    const one = visit.type === 'Coding' ? (visit.value as Coding) : undefined;
    const list = one ? undefined : (visit.value as { coding?: unknown }).coding;
    const codings: readonly unknown[] = one ? [one] : Array.isArray(list) ? list : NONE;
    let coded = 0;
    let anyUnknown = false;
    for (let i = 0; i < codings.length; i++) {
      const c = codings[i];
      if (!isCoded(c)) {
        continue;
      }
      coded++;
      const member = memberOf(valueSet, c.system, c.code);
      if (member) {
        return;
      }
      anyUnknown ||= member === undefined;
    }
    if (coded === 0) {
      if (visit.type === 'CodeableConcept') {
        out.push(
          issue('error', 'code-invalid', `No coding from the required ValueSet ${valueSet}`, visit.location)
        );
      }
      return;
    }
    if (anyUnknown) {
      out.push(unchecked(valueSet, visit.location));
      return;
    }
    const shown = codings
      .filter(isCoded)
      .map((c) => `${c.system ?? ''}#${c.code}`)
      .join(', ');
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
    acts: bound,
    check,
    validate: (resource, profile) => {
      const out: OperationOutcomeIssue[] = [];
      const tree = profile ? trees.profile(profile) : trees.type(resource.resourceType);
      if (tree) {
        const onValue = (visit: Visit): void => check(visit, out);
        if (plan) {
          walkActing(resource, tree, plan, onValue);
        } else {
          walkResource(resource, tree, trees, onValue);
        }
      }
      return out;
    },
  };
}
