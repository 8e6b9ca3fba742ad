import type { Bundle, OperationOutcome, PlanDefinition, Resource, ValueSet } from '@medplum/fhirtypes';
import { CONTENT } from '../../../src/core/conformance/content';
import { CONFORMANCE_TYPES } from '../../../src/http/served-content';
import type { TestServer } from '../../helpers/http';
import { expectOutcome, request, startServer } from '../../helpers/http';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const shipped = (type: string): Resource[] => CONTENT.filter((r) => r.resourceType === type);
const withoutServerMeta = (r: Resource): Resource => {
  const { meta, ...rest } = r;
  const kept = { ...meta };
  delete kept.versionId;
  delete kept.lastUpdated;
  return (Object.keys(kept).length > 0 ? { ...rest, meta: kept } : rest) as Resource;
};

describe('read', () => {
  test('every shipped conformance resource reads back as shipped, plus server meta', async () => {
    for (const resource of CONTENT.filter((r) =>
      (CONFORMANCE_TYPES as readonly string[]).includes(r.resourceType)
    )) {
      const res = await request(`${server.base}/${resource.resourceType}/${resource.id}`);
      expect({ status: res.status, body: withoutServerMeta(res.body) }).toEqual({
        status: 200,
        body: resource,
      });
      expect(res.body.meta?.versionId).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  test('sends ETag W/"versionId" and Last-Modified from meta.lastUpdated; If-None-Match gives 304', async () => {
    const url = `${server.base}/Questionnaire/re-evaluation`;
    const res = await request(url);
    expect(res.headers.get('etag')).toBe(`W/"${res.body.meta?.versionId}"`);
    expect(res.headers.get('last-modified')).toBe(new Date(res.body.meta!.lastUpdated!).toUTCString());
    const again = await fetch(url, { headers: { 'if-none-match': res.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const changed = await fetch(url, { headers: { 'if-none-match': 'W/"other"' } });
    expect(changed.status).toBe(200);
  });

  test('an unknown id is 404, an invalid id 400, an unknown type 404', async () => {
    expect(expectOutcome(await request(`${server.base}/ValueSet/nope`), 404, 'not-found')[0]).toBe(
      'ValueSet/nope is not known'
    );
    expectOutcome(await request(`${server.base}/ValueSet/${'x'.repeat(65)}`), 400, 'invalid');
    expectOutcome(await request(`${server.base}/Patient/123`), 404, 'not-found');
  });

  test('an unknown operation on a served type is 404', async () => {
    expect(expectOutcome(await request(`${server.base}/ValueSet/$frobnicate`), 404, 'not-found')[0]).toBe(
      'Operation $frobnicate is not supported on ValueSet'
    );
  });

  test('writes are 405 with Allow', async () => {
    for (const [method, path] of [
      ['PUT', 'ValueSet/re-onset-type'],
      ['DELETE', 'ValueSet/re-onset-type'],
      ['POST', 'ValueSet'],
      ['PATCH', 'Questionnaire/re-evaluation'],
    ] as const) {
      const res = await request(`${server.base}/${path}`, {
        method,
        headers: { 'content-type': 'application/fhir+json' },
        body: '{}',
      });
      expectOutcome(res, 405, 'not-supported');
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  test('_summary=true keeps summary elements and tags the copy SUBSETTED; text keeps only narrative and mandatory elements', async () => {
    const full = (await request<PlanDefinition>(`${server.base}/PlanDefinition/re-management-pathway`)).body;
    const summary = (
      await request<PlanDefinition>(`${server.base}/PlanDefinition/re-management-pathway?_summary=true`)
    ).body;
    expect(full.action).toBeDefined();
    expect(summary.action).toBeUndefined();
    expect(summary.text).toBeUndefined();
    expect({ url: summary.url, version: summary.version, status: summary.status }).toEqual({
      url: full.url,
      version: full.version,
      status: full.status,
    });
    expect(summary.meta?.tag).toContainEqual({
      system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
      code: 'SUBSETTED',
    });
    const text = (
      await request<PlanDefinition>(`${server.base}/PlanDefinition/re-management-pathway?_summary=text`)
    ).body;
    // The shipped content has no narrative, so what remains is id, meta and the one mandatory element.
    expect(full.text).toBeUndefined();
    expect(Object.keys(text).sort()).toEqual(['id', 'meta', 'resourceType', 'status']);
    const data = (
      await request<PlanDefinition>(`${server.base}/PlanDefinition/re-management-pathway?_summary=data`)
    ).body;
    expect(data.text).toBeUndefined();
    expect(data.action).toEqual(full.action);
  });

  test('_summary=count on a read and an unknown _summary are 400', async () => {
    expectOutcome(await request(`${server.base}/ValueSet/re-onset-type?_summary=count`), 400, 'invalid');
    expectOutcome(await request(`${server.base}/ValueSet/re-onset-type?_summary=maybe`), 400, 'invalid');
  });

  test('_pretty=true indents the JSON; other values are 400', async () => {
    const pretty = await request(`${server.base}/ValueSet/re-onset-type?_pretty=true`);
    expect(pretty.text.startsWith('{\n  "resourceType": "ValueSet"')).toBe(true);
    const compact = await request(`${server.base}/ValueSet/re-onset-type`);
    expect(compact.text.startsWith('{"resourceType":"ValueSet"')).toBe(true);
    expectOutcome(await request(`${server.base}/ValueSet/re-onset-type?_pretty=yes`), 400, 'invalid');
  });

  test('HEAD gives the headers without a body', async () => {
    const res = await fetch(`${server.base}/ValueSet/re-onset-type`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toMatch(/^W\/"/);
    expect(await res.text()).toBe('');
  });
});

describe('search', () => {
  test('without parameters: a searchset of every resource of the type, with absolute fullUrls', async () => {
    for (const type of CONFORMANCE_TYPES) {
      const res = await request<Bundle>(`${server.base}/${type}`);
      expect(res.status).toBe(200);
      expect(res.body.type).toBe('searchset');
      expect(res.body.total).toBe(shipped(type).length);
      expect(res.body.entry?.map((e) => e.resource?.id) ?? []).toEqual(shipped(type).map((r) => r.id));
      for (const e of res.body.entry ?? []) {
        expect(e.fullUrl).toBe(`${server.base}/${type}/${e.resource!.id}`);
        expect(e.search?.mode).toBe('match');
      }
    }
  });

  test('by url, by url and version, by status; a wrong version finds nothing', async () => {
    const vs = shipped('ValueSet')[0] as ValueSet;
    const byUrl = await request<Bundle>(`${server.base}/ValueSet?url=${encodeURIComponent(vs.url!)}`);
    expect(byUrl.body.entry?.map((e) => e.resource?.id)).toEqual([vs.id]);
    const both = await request<Bundle>(
      `${server.base}/ValueSet?url=${encodeURIComponent(vs.url!)}&version=${vs.version}`
    );
    expect(both.body.total).toBe(1);
    const wrong = await request<Bundle>(
      `${server.base}/ValueSet?url=${encodeURIComponent(vs.url!)}&version=9.9.9`
    );
    expect({ total: wrong.body.total, entry: wrong.body.entry }).toEqual({ total: 0, entry: undefined });
    const active = await request<Bundle>(`${server.base}/ValueSet?status=active`);
    expect(active.body.total).toBe(
      shipped('ValueSet').filter((r) => (r as ValueSet).status === 'active').length
    );
    const retired = await request<Bundle>(`${server.base}/ValueSet?status=retired,draft`);
    expect(retired.body.total).toBe(
      shipped('ValueSet').filter((r) => ['retired', 'draft'].includes((r as ValueSet).status!)).length
    );
  });

  test('name matches case-insensitively at the start; :exact and :contains', async () => {
    const names = shipped('PlanDefinition').map((r) => (r as PlanDefinition).name!);
    const ids = async (query: string): Promise<(string | undefined)[]> =>
      ((await request<Bundle>(`${server.base}/PlanDefinition?${query}`)).body.entry ?? []).map(
        (e) => (e.resource as PlanDefinition).name
      );
    expect(await ids('name=rerec')).toEqual(names.filter((n) => n.toLowerCase().startsWith('rerec')));
    expect(await ids('name:exact=ReManagementPathway')).toEqual(['ReManagementPathway']);
    expect(await ids('name:exact=remanagementpathway')).toEqual([]);
    expect(await ids('name:contains=strategy')).toEqual(
      names.filter((n) => n.toLowerCase().includes('strategy'))
    );
  });

  test('_count pages with next and previous links that work', async () => {
    const all = shipped('ActivityDefinition').map((r) => r.id);
    const first = await request<Bundle>(`${server.base}/ActivityDefinition?_count=10`);
    expect(first.body.entry?.map((e) => e.resource?.id)).toEqual(all.slice(0, 10));
    const next = first.body.link?.find((l) => l.relation === 'next')?.url;
    expect(next).toBe(`${server.base}/ActivityDefinition?_count=10&_offset=10`);
    const second = await request<Bundle>(next!);
    expect(second.body.entry?.map((e) => e.resource?.id)).toEqual(all.slice(10, 20));
    expect(second.body.link?.find((l) => l.relation === 'previous')?.url).toBe(
      `${server.base}/ActivityDefinition?_count=10`
    );
  });

  test('_summary=count gives the total only', async () => {
    const res = await request<Bundle>(`${server.base}/ValueSet?_summary=count`);
    expect({ total: res.body.total, entry: res.body.entry }).toEqual({
      total: shipped('ValueSet').length,
      entry: undefined,
    });
  });

  test('unknown parameters are ignored with a warning entry, or 400 under Prefer: handling=strict', async () => {
    const lenient = await request<Bundle>(`${server.base}/ValueSet?_sort=name&title=x`);
    expect(lenient.body.total).toBe(shipped('ValueSet').length);
    const outcome = lenient.body.entry?.find((e) => e.search?.mode === 'outcome')
      ?.resource as OperationOutcome;
    expect(outcome.issue?.[0]?.details?.text).toBe('Ignored unsupported search parameter(s): _sort, title');
    expect(lenient.body.link?.[0]?.url).toBe(`${server.base}/ValueSet`);
    const strict = await request(`${server.base}/ValueSet?title=x`, {
      headers: { prefer: 'handling=strict' },
    });
    expectOutcome(strict, 400, 'not-supported');
  });

  test('POST _search with a form body searches like GET', async () => {
    const res = await request<Bundle>(`${server.base}/PlanDefinition/_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name:exact=ReManagementPathway',
    });
    expect(res.body.entry?.map((e) => e.resource?.id)).toEqual(['re-management-pathway']);
  });

  test('a bad _count is 400', async () => {
    expectOutcome(await request(`${server.base}/ValueSet?_count=-1`), 400, 'invalid');
  });
});
