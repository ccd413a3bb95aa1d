import type { OpenAPIObject } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE, PROBLEMS } from '#contracts';

/**
 * Adds the error shape to the OpenAPI document: a `Problem` schema (RFC 9457 with gpuq's `code`, whose enum is
 * every code there is) and, on every operation, a default response of that type as application/problem+json.
 */
export function documentProblems(document: OpenAPIObject): OpenAPIObject {
  document.components ??= {};
  document.components.schemas ??= {};
  document.components.schemas.Problem = {
    type: 'object',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string', example: 'urn:gpuq:problem:corrupt-image' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string', description: 'what was wrong, in words, with the numbers' },
      instance: { type: 'string', description: 'the request path' },
      code: { type: 'string', enum: Object.keys(PROBLEMS) },
      reasons: { type: 'array', items: { type: 'object' }, description: 'no-capacity: why each class or worker cannot take the job' },
      retryAfterS: { type: 'integer', description: '429s: seconds until a retry can succeed (also Retry-After)' },
    },
    additionalProperties: true,
  };
  for (const item of Object.values(document.paths)) {
    for (const operation of [item.get, item.post, item.put, item.delete, item.patch]) {
      if (!operation) continue;
      operation.responses.default = {
        description: 'an error: application/problem+json with a stable code (docs/errors.md)',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }
  }
  return document;
}
