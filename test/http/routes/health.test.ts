import type { TestServer } from '../../helpers/http';
import { request, startServer } from '../../helpers/http';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe('health endpoints', () => {
  test('GET /healthz answers ok', async () => {
    const res = await request<{ status: string }>(`${server.origin}/healthz`);
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { status: 'ok' } });
  });

  test('GET /readyz is ready with the content loaded and no upstream', async () => {
    const res = await request(`${server.origin}/readyz`);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: { status: 'ready', content: 'loaded', upstream: 'not configured' },
    });
  });
});
