import type { StructureDefinition } from '@medplum/fhirtypes';
import type { DefinitionProvider } from './definitions';
import type { ElementTree } from './element-tree';
import { buildElementTree } from './element-tree';
import { LruCache } from '../lru';
import type { PlanSource } from './walk-plan';

/**
 * Element trees built once and cached: base trees from the definition provider, profile and
 * extension trees from the profiles the validator was given.
 */
export class TreeRegistry implements PlanSource {
  // Only what the provider and the profiles define is kept: names and URLs from input that match
  // nothing are looked up again rather than remembered (issue 14.3: one entry per client URL).
  private readonly base = new Map<string, ElementTree>();
  // Profile trees by the profile object (not by `url|version`: two profiles given with the same
  // canonical and other content are two profiles), bounded: profiles may come with a request.
  private readonly profileIds = new WeakMap<StructureDefinition, number>();
  private nextProfileId = 0;
  private readonly byProfile = new LruCache<number, ElementTree>(256);
  private readonly extensions = new Map<string, StructureDefinition>();
  private readonly builtExtensions = new Map<string, ElementTree>();
  private allExtensions: readonly ElementTree[] | undefined;

  /**
   * @param provider - Base R4 definitions.
   * @param profiles - Profiles and extension definitions (with snapshots) that may be applied.
   */
  constructor(
    private readonly provider: DefinitionProvider,
    profiles: readonly StructureDefinition[]
  ) {
    for (const sd of profiles) {
      if (sd.type === 'Extension' && sd.derivation === 'constraint' && sd.url) {
        this.extensions.set(sd.url, sd);
      }
    }
  }

  /** Base tree of a data type or resource type. */
  type = (name: string): ElementTree | undefined => {
    let tree = this.base.get(name);
    if (tree === undefined) {
      const sd = this.provider.structureDefinition(name);
      if (!sd?.snapshot) {
        return undefined;
      }
      tree = buildElementTree(sd);
      this.base.set(name, tree);
    }
    return tree;
  };

  /** Tree of a known extension definition, by its url. */
  extension = (url: string): ElementTree | undefined => {
    let tree = this.builtExtensions.get(url);
    if (tree === undefined) {
      const sd = this.extensions.get(url);
      if (!sd?.snapshot) {
        return undefined;
      }
      tree = buildElementTree(sd);
      this.builtExtensions.set(url, tree);
    }
    return tree;
  };

  /** The trees of every known extension definition (for walk plans: an Extension may take any). */
  extensionTrees = (): readonly ElementTree[] => {
    this.allExtensions ??= [...this.extensions.keys()].flatMap((url) => this.extension(url) ?? []);
    return this.allExtensions;
  };

  /** How many trees are kept (tests check that input cannot grow it). */
  get size(): number {
    return this.base.size + this.byProfile.size + this.builtExtensions.size;
  }

  /** Tree of a profile; built on first use and cached by the profile object (bounded). */
  profile(sd: StructureDefinition): ElementTree {
    let id = this.profileIds.get(sd);
    if (id === undefined) {
      id = this.nextProfileId++;
      this.profileIds.set(sd, id);
    }
    let tree = this.byProfile.get(id);
    if (!tree) {
      tree = buildElementTree(sd);
      this.byProfile.set(id, tree);
    }
    return tree;
  }
}
