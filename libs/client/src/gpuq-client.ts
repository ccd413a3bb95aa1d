import { PROBLEM_CONTENT_TYPE, TERMINAL_STATES, type ImageOutcome, type JobEvent, type JobRecord, type MemoryProfile, type Problem, type WorkerAdvert } from '#contracts';
import type { ClassDepth } from '#queue';
import { GpuqApiError } from './gpuq-api-error.js';
import { CLIENT_ROUTES, type OperationId, type SUBMIT_FIELDS } from './routes.js';
import { readEvents } from './sse.js';

export interface ImageUpload {
  name: string;
  /** Bytes, or a Blob (`fs.openAsBlob(path)` streams a file from disk without reading it into memory). */
  data: Uint8Array | Blob;
}

/** The multipart fields of a submit, as strings (they travel as form fields). */
export type SubmitFields = Partial<Record<(typeof SUBMIT_FIELDS)[number], string>>;

export interface SubmitAccepted {
  id: string;
  created: boolean;
  state: JobRecord['state'];
  className: string;
  precision: JobRecord['precision'];
}

export interface SubmitResponse {
  status: number;
  /** 202: the accepted job; 4xx: the problem document. */
  body: Record<string, any>;
}

export interface ResultsResponse {
  id: string;
  state: JobRecord['state'];
  progress: JobRecord['progress'];
  precision: JobRecord['precision'];
  /** Per image: its result, or (an image that could not be decoded) its error. */
  results: ImageOutcome[];
}

export interface CancelResponse {
  id: string;
  state: JobRecord['state'];
  message: string;
}

export type JobSummary = Omit<JobRecord, 'images' | 'requirement' | 'events'>;

/** What a job's event stream carries, in order: a snapshot, then progress and timeline events, then the end. */
export type JobStreamEvent =
  | { event: 'job'; data: JobSummary }
  | { event: 'progress'; data: { state: JobRecord['state']; done: number; total: number } }
  | { event: 'event'; data: JobEvent }
  | { event: 'end'; data: Pick<JobRecord, 'state' | 'progress' | 'precision' | 'error' | 'finishedAt'> };

/** A key's limits and what is used of them (`GET /v1/usage`). */
export interface Usage {
  keyId: string;
  tenant: string;
  limits: { ratePerMin: number; burst: number; maxConcurrentJobs: number; maxImagesPerDay: number };
  activeJobs: number;
  imagesToday: number;
}

export interface GpuqClientOptions {
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
}

/**
 * A typed client of the gpuq HTTP API (fetch-based), used by the CLI, the tests and the bench scripts.
 * Every method but `submit` throws GpuqApiError with the API's problem document when the API refuses.
 */
export class GpuqClient {
  readonly baseUrl: string;

  constructor(baseUrl: string, private readonly options: GpuqClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** Submits images as multipart/form-data; returns the HTTP status with the body, refusals included (scripts branch on them). */
  async submit(images: readonly ImageUpload[], fields: SubmitFields = {}, headers: Record<string, string> = {}): Promise<SubmitResponse> {
    const form = new FormData();
    for (const image of images) form.append('images', image.data instanceof Blob ? image.data : new Blob([new Uint8Array(image.data)]), image.name);
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) form.append(k, v);
    const res = await this.send('submitJob', {}, { method: 'POST', body: form, headers });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  job(id: string): Promise<JobRecord> {
    return this.json('getJob', { id });
  }

  results(id: string): Promise<ResultsResponse> {
    return this.json('getResults', { id });
  }

  cancel(id: string): Promise<CancelResponse> {
    return this.json('cancelJob', { id }, { method: 'DELETE' });
  }

  jobs(limit = 50): Promise<JobSummary[]> {
    return this.json('listJobs', {}, {}, { limit: String(limit) });
  }

  workers(): Promise<WorkerAdvert[]> {
    return this.json('listWorkers');
  }

  classes(): Promise<ClassDepth[]> {
    return this.json('listClasses');
  }

  usage(): Promise<Usage> {
    return this.json('getUsage');
  }

  models(): Promise<{ id: string; [k: string]: unknown }[]> {
    return this.json('listModels');
  }

  profiles(): Promise<MemoryProfile[]> {
    return this.json('listProfiles');
  }

  /** The job's server-sent events until it finishes (the stream closes after `end`). */
  async *watch(id: string, signal?: AbortSignal): AsyncGenerator<JobStreamEvent> {
    const res = await this.send('streamJob', { id }, { headers: { accept: 'text/event-stream' }, signal });
    if (!res.ok) throw await this.problemOf(res);
    for await (const event of readEvents(res.body!)) yield event as JobStreamEvent;
  }

  /** Polls until the job is completed, failed or cancelled; throws with the last record after `timeoutMs`. */
  async waitForJob(id: string, timeoutMs = 60_000, pollMs = 100): Promise<JobRecord> {
    const deadline = Date.now() + timeoutMs;
    let job: JobRecord | undefined;
    while (Date.now() < deadline) {
      job = await this.job(id);
      if (TERMINAL_STATES.has(job.state)) return job;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    throw new Error(`job ${id} not finished within ${timeoutMs} ms: ${JSON.stringify(job)}`);
  }

  private async json<T>(operation: OperationId, params: Record<string, string> = {}, init: RequestInit = {}, query: Record<string, string> = {}): Promise<T> {
    const res = await this.send(operation, params, init, query);
    if (!res.ok) throw await this.problemOf(res);
    return (await res.json()) as T;
  }

  private send(operation: OperationId, params: Record<string, string>, init: RequestInit, query: Record<string, string> = {}): Promise<Response> {
    const route = CLIENT_ROUTES[operation];
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
    const search = new URLSearchParams(query).toString();
    const headers = new Headers(init.headers);
    if (this.options.apiKey) headers.set('authorization', `Bearer ${this.options.apiKey}`);
    return fetch(`${this.baseUrl}${path}${search ? `?${search}` : ''}`, { ...init, method: route.method.toUpperCase(), headers });
  }

  private async problemOf(res: Response): Promise<GpuqApiError> {
    const text = await res.text();
    if (res.headers.get('content-type')?.startsWith(PROBLEM_CONTENT_TYPE)) return new GpuqApiError(JSON.parse(text) as Problem);
    // Not the API answering (a proxy, a wrong URL): keep what it said.
    return new GpuqApiError({ type: 'about:blank', title: res.statusText, status: res.status, detail: text.slice(0, 300), code: res.status >= 500 ? 'internal' : 'bad-request' });
  }
}
