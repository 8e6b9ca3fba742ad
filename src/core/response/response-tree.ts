import type { QuestionnaireResponse, QuestionnaireResponseItem } from '@medplum/fhirtypes';
import { isObject } from '../json';
import type { CompiledQuestionnaire, QItem } from './questionnaire-model';
import { arrayOf } from './values';

const NO_NODES: readonly ResponseNode[] = [];

/**
 * A place where items live: the response root, a group instance (its `item`), or one answer of a
 * question (its `answer[n].item`). Containers of absent items are "virtual": they describe where
 * an item would go without it being in the response.
 */
export class Container {
  /** Items present here (matched or not), in response order. */
  readonly children: ResponseNode[] = [];
  /** The matched ones by Questionnaire item, in response order; made on the first match (most containers hold none). */
  private byQ: Map<QItem, ResponseNode[]> | undefined;
  private cachedExpression: string | undefined;
  private cachedKey: string | undefined;
  private cachedPos: readonly number[] | undefined;

  /**
   * @param node - the item owning this container; undefined for the root.
   * @param answerIndex - set when the container is `answer[answerIndex].item` of `node`.
   * @param qChildren - Questionnaire items that belong here.
   */
  constructor(
    readonly node: ResponseNode | undefined,
    readonly answerIndex: number | undefined,
    readonly qChildren: readonly QItem[]
  ) {}

  /** Adds a present item (the tree does, while reading the response). */
  add(node: ResponseNode): void {
    this.children.push(node);
    if (node.q) {
      this.byQ ??= new Map();
      const list = this.byQ.get(node.q);
      if (list) {
        list.push(node);
      } else {
        this.byQ.set(node.q, [node]);
      }
    }
  }

  /** Present items matched to `q`, in response order (read only). */
  childrenOf(q: QItem): readonly ResponseNode[] {
    return this.byQ?.get(q) ?? NO_NODES;
  }

  /** FHIRPath location of the container element. */
  get expression(): string {
    if (this.cachedExpression === undefined) {
      const base = this.node ? this.node.expression : 'QuestionnaireResponse';
      this.cachedExpression = this.answerIndex === undefined ? base : `${base}.answer[${this.answerIndex}]`;
    }
    return this.cachedExpression;
  }

  /** Logical key: linkIds, instance ordinals and answer indices from the root. */
  get key(): string {
    if (this.cachedKey === undefined) {
      const base = this.node ? this.node.key : '';
      this.cachedKey = this.answerIndex === undefined ? base : `${base}@${this.answerIndex}`;
    }
    return this.cachedKey;
  }

  /** Document position (see {@link comparePos}). */
  get pos(): readonly number[] {
    if (this.cachedPos === undefined) {
      const base = this.node ? this.node.pos : [];
      this.cachedPos = this.answerIndex === undefined ? base : [...base, this.answerIndex];
    }
    return this.cachedPos;
  }
}

/** One item of the response (or a virtual item that is absent from it). */
export class ResponseNode {
  /** Containers below it: one for a group, one per answer for a question. */
  readonly containers: Container[] = [];
  private cachedExpression: string | undefined;
  private cachedKey: string | undefined;
  private cachedPos: readonly number[] | undefined;

  /**
   * @param linkId - the item's linkId ('' when it has none).
   * @param item - the response item (for a virtual node, a stand-in `{ linkId }`).
   * @param q - the Questionnaire item it answers, matched structurally; undefined when none.
   * @param mismatch - why an unmatched item matches nothing.
   * @param container - where it lives.
   * @param index - index in the container's array (-1 for virtual nodes).
   * @param ordinal - index among siblings with the same linkId.
   * @param virtual - true for a stand-in of an absent item.
   */
  constructor(
    readonly linkId: string,
    readonly item: QuestionnaireResponseItem,
    readonly q: QItem | undefined,
    readonly mismatch: 'unknown' | 'wrong-level' | undefined,
    readonly container: Container,
    readonly index: number,
    readonly ordinal: number,
    readonly virtual: boolean
  ) {}

  /** FHIRPath location, e.g. `QuestionnaireResponse.item[2].item[0]`. */
  get expression(): string {
    this.cachedExpression ??= this.virtual
      ? `${this.container.expression}.item.where(linkId='${this.linkId}')`
      : `${this.container.expression}.item[${this.index}]`;
    return this.cachedExpression;
  }

  /** Logical key: stable across calculation passes for the same item instance. */
  get key(): string {
    this.cachedKey ??= `${this.container.key}/${this.linkId}#${this.ordinal}`;
    return this.cachedKey;
  }

  /**
   * Document position: (Questionnaire sibling index, instance ordinal) per level, with the answer
   * index inserted below a question. Unmatched items sort after matched ones.
   */
  get pos(): readonly number[] {
    this.cachedPos ??= [
      ...this.container.pos,
      this.q ? this.q.siblingIndex : 1_000_000 + this.index,
      this.ordinal,
    ];
    return this.cachedPos;
  }
}

/**
 * A QuestionnaireResponse aligned with its Questionnaire: each item matched to the Questionnaire
 * item it answers by position in the hierarchy (a linkId is looked up among the children of the
 * parent's Questionnaire item), with FHIRPath locations and logical keys.
 */
export class ResponseTree {
  readonly root: Container;
  /** Every present node in document (response) order. */
  readonly nodes: ResponseNode[] = [];
  private readonly byQ = new Map<QItem, ResponseNode[]>();
  /** Every container created (present, then virtual ones as they are asked for). */
  private readonly containers: Container[] = [];
  private byKey: Map<string, ResponseNode> | undefined;
  private containersByKey: Map<string, Container> | undefined;
  private readonly virtuals = new Map<Container, Map<QItem, ResponseNode>>();
  /** {@link containersFor} by parent item. */
  private readonly containersBelow = new Map<QItem, Container[]>();

  /**
   * @param response - the response (read only).
   * @param cq - its compiled Questionnaire.
   */
  constructor(
    readonly response: QuestionnaireResponse,
    readonly cq: CompiledQuestionnaire
  ) {
    this.root = this.container(undefined, undefined, cq.roots);
    this.fill(this.root, isObject(response) ? response.item : undefined);
  }

  /** Present nodes matched to a Questionnaire item, in document order. */
  nodesOf(q: QItem): readonly ResponseNode[] {
    return this.byQ.get(q) ?? [];
  }

  /** Present node with this logical key. */
  nodeByKey(key: string): ResponseNode | undefined {
    if (!this.byKey) {
      // Built on first use: most callers never need it, and hashing long keys is not free.
      this.byKey = new Map();
      for (const n of this.nodes) {
        if (!this.byKey.has(n.key)) {
          this.byKey.set(n.key, n);
        }
      }
    }
    return this.byKey.get(key);
  }

  /** Container of a present item (or the root) with this logical key. */
  containerByKey(key: string): Container | undefined {
    if (!this.containersByKey) {
      this.containersByKey = new Map();
      for (const c of this.containers) {
        if (!this.containersByKey.has(c.key)) {
          this.containersByKey.set(c.key, c);
        }
      }
    }
    return this.containersByKey.get(key);
  }

  /** Present nodes for `q` in a container (read only). */
  childrenFor(container: Container, q: QItem): readonly ResponseNode[] {
    return container.childrenOf(q);
  }

  /**
   * The nodes standing for `q` in a container: the present ones, or one virtual node when there is
   * none. A repeating group with no instance has no node (nothing can be created for it).
   */
  instancesIn(container: Container, q: QItem): readonly ResponseNode[] {
    const present = this.childrenFor(container, q);
    if (present.length > 0) {
      return present;
    }
    if (q.type === 'group' && q.repeats) {
      return [];
    }
    return [this.virtual(container, q)];
  }

  /**
   * Every container in which items of `q` live, following the Questionnaire hierarchy through
   * present and virtual instances (see {@link instancesIn}).
   */
  containersFor(q: QItem): readonly Container[] {
    if (!q.parent) {
      return [this.root];
    }
    // Siblings share their parent's containers: found once per parent (virtual nodes are memoised,
    // so the answer cannot change).
    let result = this.containersBelow.get(q.parent);
    if (result === undefined) {
      result = [];
      for (const c of this.containersFor(q.parent)) {
        for (const n of this.instancesIn(c, q.parent)) {
          result.push(...n.containers);
        }
      }
      this.containersBelow.set(q.parent, result);
    }
    return result;
  }

  /** A stand-in for an item that is absent from a container (memoised). */
  virtual(container: Container, q: QItem): ResponseNode {
    let map = this.virtuals.get(container);
    if (!map) {
      map = new Map();
      this.virtuals.set(container, map);
    }
    const existing = map.get(q);
    if (existing) {
      return existing;
    }
    const node = new ResponseNode(q.linkId, { linkId: q.linkId }, q, undefined, container, -1, 0, true);
    if (q.type === 'group') {
      node.containers.push(this.container(node, undefined, q.children));
    }
    map.set(q, node);
    return node;
  }

  private container(
    node: ResponseNode | undefined,
    answerIndex: number | undefined,
    qChildren: readonly QItem[]
  ): Container {
    const c = new Container(node, answerIndex, qChildren);
    if (!node?.virtual) {
      this.containers.push(c);
    }
    return c;
  }

  private fill(container: Container, items: unknown): void {
    if (!Array.isArray(items) || items.length === 0) {
      return;
    }
    // Instance ordinals of unmatched linkIds (matched ones count their earlier siblings of the same item).
    let ordinals: Map<string, number> | undefined;
    const byLinkId = container.node?.q ? container.node.q.childByLinkId : this.cq.rootByLinkId;
    for (let index = 0; index < items.length; index++) {
      const raw: unknown = items[index];
      if (!isObject(raw)) {
        continue;
      }
      const item = raw as unknown as QuestionnaireResponseItem;
      const linkId = typeof item.linkId === 'string' ? item.linkId : '';
      const q = byLinkId.get(linkId);
      let ordinal: number;
      if (q) {
        // In one container, one linkId matches one item: its earlier siblings are its instances.
        ordinal = container.childrenOf(q).length;
      } else {
        ordinals ??= new Map();
        ordinal = ordinals.get(linkId) ?? 0;
        ordinals.set(linkId, ordinal + 1);
      }
      const mismatch = q ? undefined : this.cq.byLinkId.has(linkId) ? 'wrong-level' : 'unknown';
      const node = new ResponseNode(linkId, item, q, mismatch, container, index, ordinal, false);
      container.add(node);
      this.nodes.push(node);
      if (!q) {
        continue;
      }
      const list = this.byQ.get(q);
      if (list) {
        list.push(node);
      } else {
        this.byQ.set(q, [node]);
      }
      if (q.type === 'group') {
        const c = this.container(node, undefined, q.children);
        node.containers.push(c);
        this.fill(c, item.item);
      } else if (q.type !== 'display' && Array.isArray(item.answer)) {
        for (let a = 0; a < item.answer.length; a++) {
          const c = this.container(node, a, q.children);
          node.containers.push(c);
          const answer: unknown = item.answer[a];
          if (isObject(answer)) {
            this.fill(c, answer.item);
          }
        }
      }
    }
  }
}

/**
 * Maps the nodes and containers of one tree onto another tree of the same Questionnaire (a response
 * and its calculated version) by logical position: same linkIds, same instance ordinals, same
 * answer indices from the root, i.e. what {@link ResponseNode.key} and {@link Container.key} spell.
 * It follows the structure the trees already have instead of building and hashing those keys.
 * Like {@link ResponseTree.nodeByKey} and {@link ResponseTree.containerByKey}, it finds only present
 * nodes and containers of the target, and a virtual node or container of the source maps to the
 * present one at its place in the target.
 */
export class TreeCorrespondence {
  private readonly containerMemo = new Map<Container, Container | undefined>();

  /**
   * @param from - the tree whose nodes and containers are looked up.
   * @param to - the tree they are mapped onto (same compiled Questionnaire).
   */
  constructor(
    private readonly from: ResponseTree,
    private readonly to: ResponseTree
  ) {}

  /** The present node of the target at the place of `node`. */
  node(node: ResponseNode): ResponseNode | undefined {
    const target = this.container(node.container);
    return target ? childAt(target, node) : undefined;
  }

  /** The present container of the target at the place of `container`. */
  container(container: Container): Container | undefined {
    if (container === this.from.root) {
      return this.to.root;
    }
    if (this.containerMemo.has(container)) {
      return this.containerMemo.get(container);
    }
    const owner = container.node;
    const target = owner ? this.node(owner)?.containers : undefined;
    let found: Container | undefined;
    if (target) {
      for (const c of target) {
        if (c.answerIndex === container.answerIndex) {
          found = c;
          break;
        }
      }
    }
    this.containerMemo.set(container, found);
    return found;
  }
}

/** The present child of `container` with the linkId and instance ordinal of `node`. */
function childAt(container: Container, node: ResponseNode): ResponseNode | undefined {
  if (node.q && node.q.parent === container.node?.q) {
    // Every sibling with this linkId matches the same Questionnaire item, in response order.
    return container.childrenOf(node.q)[node.ordinal];
  }
  for (const c of container.children) {
    if (c.linkId === node.linkId && c.ordinal === node.ordinal) {
      return c;
    }
  }
  return undefined;
}

/**
 * Compares two document positions: negative when `a` comes first. A position is the list of
 * (Questionnaire sibling index, instance ordinal[, answer index]) steps from the root, so an
 * ancestor's position is a prefix of its descendants' and sorts before them.
 * @param a - first position.
 * @param b - second position.
 */
export function comparePos(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      return a[i]! - b[i]!;
    }
  }
  return a.length - b.length;
}

/**
 * Whether `inner` lies inside (or is) the element at position `outer`.
 * @param outer - the enclosing position.
 * @param inner - the position tested.
 */
export function isWithin(outer: readonly number[], inner: readonly number[]): boolean {
  if (inner.length < outer.length) {
    return false;
  }
  for (let i = 0; i < outer.length; i++) {
    if (outer[i] !== inner[i]) {
      return false;
    }
  }
  return true;
}

/** The container that encloses a container's owning item (undefined for the root). */
export function parentContainer(c: Container): Container | undefined {
  return c.node?.container;
}

/** True when an answer object carries a value. */
export function hasValue(answer: unknown): boolean {
  if (!isObject(answer)) {
    return false;
  }
  // An own enumerable key matching /^value[A-Z]/, without a key array or a regex per key.
  for (const k in answer) {
    if (k.length > 5 && k.startsWith('value') && isUpperAscii(k.charCodeAt(5)) && hasOwn.call(answer, k)) {
      return true;
    }
  }
  return false;
}

const hasOwn = Object.prototype.hasOwnProperty;

function isUpperAscii(c: number): boolean {
  return c >= 65 && c <= 90;
}

/** True when the node or anything below it has an answer with a value. */
export function hasAnsweredContent(node: ResponseNode): boolean {
  if (arrayOf(node.item.answer).some(hasValue)) {
    return true;
  }
  return node.containers.some((c) => c.children.some(hasAnsweredContent));
}
