import type { Resource, StructureDefinition } from '@medplum/fhirtypes';
import { evaluateResponse } from '../../src/core/operations/evaluate';
import type { ElementNode } from '../../src/core/validation/element-tree';
import { TreeRegistry } from '../../src/core/validation/trees';
import { shippedProfiles } from './content';
import { testEngine } from './engine';
import { scenarios } from './scenarios';
import { r4Definitions } from './validation';

/** What the validation walk tests run on: the shipped profiles' trees and the golden resources. */
export interface ValidationGolden {
  readonly profiles: StructureDefinition[];
  readonly trees: TreeRegistry;
  /** Every input response, output resource and output Bundle (resources nested in entries) of the golden scenarios. */
  readonly golden: Resource[];
  /** The shipped profiles a resource claims (of its type). */
  readonly claimed: (resource: Resource) => StructureDefinition[];
}

/** Evaluates every golden scenario once and builds the trees of the shipped profiles. */
export function validationGolden(): ValidationGolden {
  const profiles = shippedProfiles();
  const byUrl = new Map(profiles.filter((p) => p.url).map((p) => [p.url!, p]));
  const golden = scenarios().flatMap((s) => {
    const evaluation = evaluateResponse(s.response, testEngine());
    return [
      s.response,
      ...(evaluation.bundle.entry ?? []).map((e) => e.resource as Resource),
      evaluation.bundle,
    ];
  });
  const claimed = (resource: Resource): StructureDefinition[] => {
    const declared: unknown = resource.meta?.profile;
    return (Array.isArray(declared) ? declared : [])
      .map((url) => (typeof url === 'string' ? byUrl.get(url.split('|')[0]!) : undefined))
      .filter((p): p is StructureDefinition => p?.type === resource.resourceType);
  };
  return { profiles, trees: new TreeRegistry(r4Definitions(), profiles), golden, claimed };
}

/** One key per element definition and type met by a walk. */
export const nodeKey = (node: ElementNode, type: string): string => `${node.tree.url}|${node.path}|${type}`;
