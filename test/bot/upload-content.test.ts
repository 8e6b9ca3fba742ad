import type { Resource } from '@medplum/fhirtypes';
import type { MockClient } from '@medplum/mock';
import { uploadContent } from '../../src/bot/upload-content';
import { CONTENT } from '../../src/core/conformance/content';
import type { CanonicalResource } from '../../src/core/conformance/registry';
import { countByType, indexedMockClient } from './support';

let medplum: MockClient;

function withoutIdAndMeta(resource: Resource): Partial<Resource> {
  const copy: Partial<Resource> = structuredClone(resource);
  delete copy.id;
  delete copy.meta;
  return copy;
}

beforeAll(async () => {
  medplum = await indexedMockClient();
});

beforeEach(() => {
  medplum.repo.clear();
});

describe('uploadContent', () => {
  test('uploads every shipped resource, each findable once by url and version, with its content', async () => {
    const upsert = jest.spyOn(medplum, 'upsertResource');
    const uploaded = await uploadContent(medplum);

    expect(uploaded).toHaveLength(CONTENT.length);
    expect(upsert).toHaveBeenCalledTimes(CONTENT.length);
    for (const call of upsert.mock.calls) {
      const { url, version } = call[0] as CanonicalResource;
      expect(call[1]).toEqual({ url, version });
    }
    upsert.mockRestore();

    for (const shipped of CONTENT as CanonicalResource[]) {
      const found = await medplum.searchResources(shipped.resourceType, {
        url: shipped.url,
        version: shipped.version!,
      });
      expect({ canonical: `${shipped.url}|${shipped.version}`, count: found.length }).toEqual({
        canonical: `${shipped.url}|${shipped.version}`,
        count: 1,
      });
      expect(withoutIdAndMeta(found[0]!)).toEqual(withoutIdAndMeta(shipped));
      expect(found[0]!.meta?.profile).toEqual(shipped.meta?.profile);
      expect(uploaded).toContainEqual({
        canonical: `${shipped.url}|${shipped.version}`,
        reference: `${found[0]!.resourceType}/${found[0]!.id}`,
      });
    }
  });

  test('a second upload updates in place: same resources, nothing added', async () => {
    const first = await uploadContent(medplum);
    const counts = await countByType(medplum);
    const second = await uploadContent(medplum);
    expect(second).toEqual(first);
    expect(await countByType(medplum)).toEqual(counts);
  });

  test('the terminology goes up before what uses it, the Questionnaire last', async () => {
    const uploaded = await uploadContent(medplum);
    const types = uploaded.map((u) => u.reference.split('/')[0]);
    expect(types.indexOf('CodeSystem')).toBe(0);
    expect(types.lastIndexOf('ValueSet')).toBeLessThan(types.indexOf('StructureDefinition'));
    expect(types.at(-1)).toBe('Questionnaire');
  });

  test('a resource without url and version is refused before anything is uploaded', async () => {
    const loose: Resource = { resourceType: 'ValueSet', id: 'loose', status: 'draft' };
    await expect(uploadContent(medplum, [...CONTENT, loose])).rejects.toThrow(
      'ValueSet/loose has no url and version'
    );
    expect(await countByType(medplum)).toEqual({});
  });
});
