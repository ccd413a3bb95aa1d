import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { TERMINAL_STATES, type JobRecord } from '#contracts';
import { JobRecordRepository } from '#queue';

/** How often a stream looks at its job: progress is written per micro-batch, so sub-second is plenty. */
const POLL_MS = 250;
/** A comment line now and then keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/**
 * Server-sent events for one job: `job` (a snapshot) first, then `progress` when the state or the count of
 * finished images changes, `event` for each new timeline event (OOMs, batch sizes, reroutes, webhooks), and
 * `end` with the final state once the job is finished; then the stream closes.
 */
@Injectable()
export class JobStream {
  constructor(private readonly jobs: JobRecordRepository) {}

  async run(record: JobRecord, res: Response): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let closed = false;
    res.once('close', () => (closed = true));
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const { images, requirement, events, ...snapshot } = record;
    send('job', snapshot);
    let sentEvents = 0;
    let last = { state: '', done: -1 };
    let lastWrite = Date.now();
    while (!closed) {
      const now = await this.jobs.progressOf(record.id);
      if (!now) break;
      if (now.events > sentEvents) {
        for (const event of await this.jobs.eventsSince(record.id, sentEvents)) send('event', event);
        sentEvents = now.events;
        lastWrite = Date.now();
      }
      if (now.state !== last.state || now.done !== last.done) {
        send('progress', { state: now.state, done: now.done, total: now.total });
        last = { state: now.state, done: now.done };
        lastWrite = Date.now();
      }
      if (TERMINAL_STATES.has(now.state)) {
        const final = (await this.jobs.get(record.id))!;
        send('end', { state: final.state, progress: final.progress, precision: final.precision, error: final.error, finishedAt: final.finishedAt });
        break;
      }
      if (Date.now() - lastWrite > HEARTBEAT_MS) {
        res.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    res.end();
  }
}
