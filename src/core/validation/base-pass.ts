import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { BindingTier } from './bindings';
import type { InvariantTier } from './invariants';
import type { TreeRegistry } from './trees';
import type { ClassifiedIssues } from './types';
import { walkActing } from './walk';
import { createWalkPlan } from './walk-plan';

/** What {@link BasePass} found: the invariant tier's base issues, and the binding tier's on the base definition. */
export interface BasePassIssues extends ClassifiedIssues {
  readonly bindings: OperationOutcomeIssue[];
}

/**
 * The invariant tier's base mode and the binding tier without a profile, in one walk of the
 * resource instead of two (issue 13, lever 2). Both walk the base definition with nested resources
 * and extension definitions, so one plan acting where either acts shows each its own values, in
 * the same order and at the same locations as its own walk (`walkActing` visits in JSON order; a
 * plan only prunes subtrees where its check cannot act): each tier's issues are those of its own
 * pass (`test/core/validation/base-pass.test.ts`).
 */
export type BasePass = (resource: Resource) => BasePassIssues;

/**
 * Creates the fused pass.
 * @param trees - Element trees (those the tiers were created with).
 * @param invariants - The invariant tier.
 * @param bindings - The binding tier.
 */
export function createBasePass(
  trees: TreeRegistry,
  invariants: InvariantTier,
  bindings: BindingTier
): BasePass {
  const plan = createWalkPlan(trees, {
    acts: (definition, type) => invariants.baseActs(definition) || bindings.acts(definition, type),
    nested: true,
    extensions: true,
  });
  return (resource) => {
    const found: BasePassIssues = { structural: [], conformance: [], bindings: [] };
    const tree = trees.type(resource.resourceType);
    if (tree) {
      walkActing(resource, tree, plan, (visit) => {
        invariants.baseVisit(visit, found);
        bindings.check(visit, found.bindings);
      });
    }
    return found;
  };
}
