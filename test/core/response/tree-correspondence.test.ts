import type { Questionnaire, QuestionnaireResponse } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { shippedRegistry } from '../../../src/core/conformance/registry';
import { calculateResponse } from '../../../src/core/response/calculate';
import { compileQuestionnaire } from '../../../src/core/response/questionnaire-model';
import type { Container, ResponseNode } from '../../../src/core/response/response-tree';
import { ResponseTree, TreeCorrespondence } from '../../../src/core/response/response-tree';
import { validReResponse } from '../../helpers/re-response-arbitrary';
import { arbitraryResponse } from './arbitraries';
import { INTAKE, questionnaire, response } from './support';

const CLOCK = { clock: () => new Date('2026-01-01T00:00:00Z') };

/** Every node and container of a tree: present ones, then the virtual ones for each item. */
function everything(tree: ResponseTree): { nodes: ResponseNode[]; containers: Container[] } {
  const nodes = [...tree.nodes];
  const containers = [tree.root, ...tree.nodes.flatMap((n) => n.containers)];
  for (const q of tree.cq.all) {
    for (const c of tree.containersFor(q)) {
      containers.push(c);
      nodes.push(...tree.instancesIn(c, q));
    }
  }
  return { nodes, containers };
}

/** True when no two present nodes, and no two present containers, of a tree share a key. */
function keysAreUnique(tree: ResponseTree): boolean {
  const nodeKeys = tree.nodes.map((n) => n.key);
  const containerKeys = [tree.root, ...tree.nodes.flatMap((n) => n.containers)].map((c) => c.key);
  return new Set(nodeKeys).size === nodeKeys.length && new Set(containerKeys).size === containerKeys.length;
}

/**
 * The old lookup (by string key, `nodeByKey`/`containerByKey`) and the correspondence agree on
 * every node and container of `from`, present or virtual.
 */
function expectSameAsKeys(q: Questionnaire, from: QuestionnaireResponse, to: QuestionnaireResponse): number {
  const cq = compileQuestionnaire(q);
  const source = new ResponseTree(from, cq);
  const target = new ResponseTree(to, cq);
  // Keys spelled from linkIds holding '/', '#' or '@' can collide; the key lookup then picks the
  // first, the correspondence the right one. Equivalence is claimed only where keys are unambiguous.
  fc.pre(keysAreUnique(source) && keysAreUnique(target));
  const map = new TreeCorrespondence(source, target);
  const { nodes, containers } = everything(source);
  for (const n of nodes) {
    expect(map.node(n)).toBe(target.nodeByKey(n.key));
  }
  for (const c of containers) {
    expect(map.container(c)).toBe(target.containerByKey(c.key));
  }
  return nodes.length;
}

describe('TreeCorrespondence (position instead of string keys)', () => {
  it('maps a response onto its calculated version as the key lookup does', () => {
    fc.assert(
      fc.property(arbitraryResponse(), (qr) => {
        expectSameAsKeys(INTAKE, qr, calculateResponse(qr, INTAKE, CLOCK).response);
      }),
      { numRuns: 200, endOnFailure: true }
    );
  });

  it('maps between unrelated responses (changed, missing and extra items) as the key lookup does', () => {
    fc.assert(
      fc.property(arbitraryResponse(), arbitraryResponse(), (a, b) => {
        expectSameAsKeys(INTAKE, a, b);
      }),
      { numRuns: 200, endOnFailure: true }
    );
  });

  it('maps RE responses onto their calculated versions as the key lookup does', () => {
    const re = shippedRegistry().ofType<Questionnaire>('Questionnaire')[0]!;
    fc.assert(
      fc.property(validReResponse(), (qr) => {
        expect(expectSameAsKeys(re, qr, calculateResponse(qr, re, CLOCK).response)).toBeGreaterThan(0);
      }),
      { numRuns: 50 }
    );
  });

  it('finds a group the target has and the source lacks (a virtual node maps to a present one)', () => {
    const q = questionnaire([
      { linkId: 'g', type: 'group', item: [{ linkId: 'x', type: 'integer' }] },
      { linkId: 'y', type: 'integer' },
    ]);
    const cq = compileQuestionnaire(q);
    const source = new ResponseTree(response([{ linkId: 'y', answer: [{ valueInteger: 1 }] }]), cq);
    const target = new ResponseTree(
      response([{ linkId: 'g', item: [{ linkId: 'x', answer: [{ valueInteger: 2 }] }] }]),
      cq
    );
    const map = new TreeCorrespondence(source, target);
    const [group] = source.instancesIn(source.root, cq.byLinkId.get('g')!);
    const [x] = source.instancesIn(group!.containers[0]!, cq.byLinkId.get('x')!);
    expect(group!.virtual).toBe(true);
    expect(map.node(group!)).toBe(target.nodes[0]);
    expect(map.node(x!)).toBe(target.nodes[1]);
    expect(map.node(source.nodes[0]!)).toBeUndefined();
  });

  it('is not misled by linkIds that spell another item’s key', () => {
    const q = questionnaire([{ linkId: 'g', type: 'group', item: [{ linkId: 'x', type: 'integer' }] }]);
    const cq = compileQuestionnaire(q);
    // At the top level, linkId 'g#0/x' spells the key of x inside g ('/g#0/x#0').
    const qr = response([
      { linkId: 'g#0/x' },
      { linkId: 'g', item: [{ linkId: 'x', answer: [{ valueInteger: 2 }] }] },
    ]);
    const source = new ResponseTree(qr, cq);
    const target = new ResponseTree(structuredClone(qr), cq);
    const x = source.nodes[2]!;
    expect(x.linkId).toBe('x');
    expect(target.nodeByKey(x.key)).toBe(target.nodes[0]);
    expect(new TreeCorrespondence(source, target).node(x)).toBe(target.nodes[2]);
  });
});
