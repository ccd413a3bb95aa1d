import type { InsufficientResource } from './requirement.js';

/**
 * Every error the API answers with, by its stable `code`: the HTTP status it comes with and a title. Clients
 * branch on `code`; `detail` says what happened in words, with the numbers. docs/errors.md lists the same.
 */
export const PROBLEMS = {
  'unauthorized': { status: 401, title: 'A valid API key is required' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'bad-request': { status: 400, title: 'Bad request' },
  'invalid-field': { status: 400, title: 'A form field is invalid' },
  'unknown-model': { status: 400, title: 'Unknown model' },
  'invalid-idempotency-key': { status: 400, title: 'Invalid Idempotency-Key' },
  'no-images': { status: 400, title: 'No images' },
  'malformed-multipart': { status: 400, title: 'Malformed multipart body' },
  'corrupt-image': { status: 400, title: 'An image is truncated or damaged' },
  'too-many-pixels': { status: 400, title: 'An image has too many pixels' },
  'invalid-webhook-url': { status: 400, title: 'The webhook URL is refused' },
  'file-too-large': { status: 413, title: 'An image is too large' },
  'too-many-images': { status: 413, title: 'Too many images in one job' },
  'request-too-large': { status: 413, title: 'The request is too large' },
  'unsupported-media-type': { status: 415, title: 'Send multipart/form-data' },
  'unsupported-format': { status: 415, title: 'Image format not accepted' },
  'idempotency-key-reused': { status: 409, title: 'The Idempotency-Key was used for another request' },
  'no-capacity': { status: 422, title: 'No live worker could ever run this job' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'too-many-concurrent-jobs': { status: 429, title: 'Too many unfinished jobs' },
  'daily-image-quota': { status: 429, title: 'Daily image quota used up' },
  'internal': { status: 500, title: 'Internal error' },
  'unavailable': { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

/** An RFC 9457 problem document (`application/problem+json`), with gpuq's stable `code`. */
export interface Problem {
  /** `urn:gpuq:problem:<code>`. */
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The request path that failed. */
  instance?: string;
  code: ProblemCode;
  /** `no-capacity`: why each class or worker cannot take the job, with the numbers. */
  reasons?: InsufficientResource[];
  /** Field-level problems of `invalid-field`. */
  problems?: string[];
  /** 429s: seconds until a retry can succeed (also the Retry-After header). */
  retryAfterS?: number;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const problemType = (code: ProblemCode) => `urn:gpuq:problem:${code}`;
