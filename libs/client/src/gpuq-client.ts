import { TERMINAL_STATES, type ImageResult, type JobRecord, type WorkerAdvert } from '#contracts';

export interface ImageUpload {
  name: string;
  data: Uint8Array;
}

export interface SubmitResponse {
  status: number;
  /** 202: `{ id, created, state, className, precision }`; 4xx: `{ error, message, reasons? }`. */
  body: Record<string, any>;
}

export interface ResultsResponse {
  id: string;
  state: JobRecord['state'];
  progress: JobRecord['progress'];
  precision: JobRecord['precision'];
  results: ImageResult[];
}

/** A small typed client of the gpuq HTTP API (fetch-based; used by the tests, the bench scripts and users). */
export class GpuqClient {
  constructor(readonly baseUrl: string) {}

  /** Submits images as multipart/form-data; returns the HTTP status with the body, refusals included. */
  async submit(images: readonly ImageUpload[], fields: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<SubmitResponse> {
    const form = new FormData();
    for (const image of images) form.append('images', new Blob([new Uint8Array(image.data)]), image.name);
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const res = await fetch(`${this.baseUrl}/v1/jobs`, { method: 'POST', body: form, headers });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  async job(id: string): Promise<JobRecord> {
    return (await (await fetch(`${this.baseUrl}/v1/jobs/${id}`)).json()) as JobRecord;
  }

  async results(id: string): Promise<ResultsResponse> {
    return (await (await fetch(`${this.baseUrl}/v1/jobs/${id}/results`)).json()) as ResultsResponse;
  }

  async workers(): Promise<WorkerAdvert[]> {
    return (await (await fetch(`${this.baseUrl}/v1/workers`)).json()) as WorkerAdvert[];
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
}
