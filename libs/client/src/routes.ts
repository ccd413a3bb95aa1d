/**
 * Every API operation the client calls, by its OpenAPI operationId. A test checks each against the API's
 * OpenAPI document (method, path, parameters, body fields), so the client cannot drift from the server.
 */
export const CLIENT_ROUTES = {
  submitJob: { method: 'post', path: '/v1/jobs' },
  listJobs: { method: 'get', path: '/v1/jobs', query: ['limit'] },
  getJob: { method: 'get', path: '/v1/jobs/{id}' },
  getResults: { method: 'get', path: '/v1/jobs/{id}/results' },
  streamJob: { method: 'get', path: '/v1/jobs/{id}/events' },
  cancelJob: { method: 'delete', path: '/v1/jobs/{id}' },
  listWorkers: { method: 'get', path: '/v1/workers' },
  listClasses: { method: 'get', path: '/v1/classes' },
  getUsage: { method: 'get', path: '/v1/usage' },
  listModels: { method: 'get', path: '/v1/models' },
  listProfiles: { method: 'get', path: '/v1/profiles' },
} as const;

export type OperationId = keyof typeof CLIENT_ROUTES;

/** The multipart fields `submit` may send besides `images` (checked against the request body schema). */
export const SUBMIT_FIELDS = ['model', 'precision', 'priority', 'allowCpu', 'waitForCapacity', 'webhookUrl'] as const;
