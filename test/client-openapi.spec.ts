import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLIENT_ROUTES, GpuqClient, SUBMIT_FIELDS } from '#client';
import { PROBLEM_CONTENT_TYPE, PROBLEMS } from '#contracts';
import { client, startApi, testEnv } from './support/stack.js';

interface Operation {
  operationId: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
}
type OpenApi = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties: Record<string, { enum?: string[] }> }>; securitySchemes: Record<string, unknown> };
  security: Record<string, unknown>[];
};

describe('the typed client against the OpenAPI document', () => {
  const env = testEnv(inject('redisUrl'));
  let api: Awaited<ReturnType<typeof startApi>>;
  let doc: OpenApi;

  beforeAll(async () => {
    api = await startApi(env);
    doc = (await (await fetch(`${api.url}/docs/openapi.json`)).json()) as OpenApi;
  });
  afterAll(async () => {
    await api?.app.close();
  });

  it('every operation the client calls exists with its method, path parameters and query parameters', () => {
    for (const [operationId, route] of Object.entries(CLIENT_ROUTES)) {
      const operation = doc.paths[route.path]?.[route.method];
      expect(operation?.operationId, `${route.method} ${route.path}`).toBe(operationId);
      const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(operation!.parameters?.filter((p) => p.in === 'path').map((p) => p.name) ?? [], operationId).toEqual(pathParams);
      const query = 'query' in route ? [...route.query] : [];
      expect(operation!.parameters?.filter((p) => p.in === 'query').map((p) => p.name) ?? [], operationId).toEqual(query);
    }
  });

  it('every /v1 operation of the API has a client method', () => {
    const documented = Object.entries(doc.paths).filter(([path]) => path.startsWith('/v1')).flatMap(([, item]) => Object.values(item).map((o) => o.operationId));
    expect(documented.sort()).toEqual(Object.keys(CLIENT_ROUTES).sort());
    // Each route is reachable through a public method (the route table is not a list of wishes).
    const methods = Object.getOwnPropertyNames(GpuqClient.prototype);
    expect(methods).toEqual(expect.arrayContaining(['submit', 'jobs', 'job', 'results', 'watch', 'cancel', 'workers', 'classes', 'usage', 'models', 'profiles']));
  });

  it("submit sends exactly the documented multipart fields", () => {
    const body = doc.paths['/v1/jobs']!.post!.requestBody!.content['multipart/form-data']!.schema.properties;
    expect(Object.keys(body).sort()).toEqual(['images', ...SUBMIT_FIELDS].sort());
  });

  it('every operation documents its errors as problem+json, with every code the API uses', () => {
    const codes = doc.components.schemas.Problem!.properties.code!.enum!;
    expect(codes.sort()).toEqual(Object.keys(PROBLEMS).sort());
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        expect(operation.responses.default?.content?.[PROBLEM_CONTENT_TYPE]?.schema.$ref, `${method} ${path}`).toBe('#/components/schemas/Problem');
      }
    }
    expect(doc.components.securitySchemes.bearer).toBeDefined();
    expect(doc.security).toEqual([{ bearer: [] }]);
  });

  it("the client's answers are the API's answers (usage, classes, models, a refusal as GpuqApiError)", async () => {
    const as = client(api.url);
    expect(await as.usage()).toMatchObject({ tenant: 'test', activeJobs: 0, imagesToday: 0, limits: { maxConcurrentJobs: 20 } });
    expect(Array.isArray(await as.classes())).toBe(true);
    expect((await as.models()).map((m) => m.id)).toContain('ppocr-v4-det');
    await expect(as.job('nope')).rejects.toMatchObject({ name: 'GpuqApiError', status: 404, code: 'not-found' });
  });
});
