import { describe, expect, inject, it } from 'vitest';
import type { ImageResult } from '#contracts';
import { FAST_TAKEOVER, useCrashCluster } from './support/crash-cluster.js';
import { apiFetch, getJob, testEnv, waitForJob, waitUntil } from './support/stack.js';

describe('a worker fenced off while it was paused', () => {
  const env = testEnv(inject('redisUrl'), { ...FAST_TAKEOVER, MAX_CRASHES: '2' });
  const cluster = useCrashCluster(env, 'fenced');

  it('cannot write once its lock expired and the job was taken over; coming back, it is no crash', async () => {
    const paused = await cluster.start();
    const id = await cluster.submitPages(30);
    await waitUntil('a checkpoint of the first worker', async () => {
      const job = await getJob(cluster.api.url, id);
      return job.progress.done >= 2 && job.activeDelivery?.workerId === paused.workerId ? true : undefined;
    });
    // Frozen mid-job (SIGSTOP) past its lock: the job is taken over by another worker.
    paused.child.kill('SIGSTOP');
    const other = await cluster.start();
    await waitUntil('the takeover', async () => ((await getJob(cluster.api.url, id)).activeDelivery?.workerId === other.workerId ? true : undefined), 30_000);
    const doneAtTakeover = (await getJob(cluster.api.url, id)).progress.done;
    paused.child.kill('SIGCONT');

    // Running again, the paused worker finishes the batch it was in and tries to write it: refused, nothing written.
    const refused = JSON.parse(await paused.waitForLog(/"msg":"fenced off: /, 30_000)) as { operation: string; jobId: string; crashRetracted: boolean };
    expect(refused).toMatchObject({ jobId: id, operation: expect.stringMatching(/^(write \d+ result\(s\)|add a \w+ event|end the job \w+)$/) });
    const job = await waitForJob(cluster.api.url, id, 120_000);
    expect(job.state).toBe('completed');
    const { results } = (await (await apiFetch(`${cluster.api.url}/v1/jobs/${id}/results`)).json()) as { results: ImageResult[] };
    // Every image once; what the paused worker wrote, it wrote before the takeover.
    expect(results.map((r) => r.index)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(results.filter((r) => r.workerId === paused.workerId).length).toBeLessThanOrEqual(doneAtTakeover);
    expect(results.filter((r) => r.workerId === other.workerId).length).toBeGreaterThanOrEqual(30 - doneAtTakeover);
    // It was alive all along: its takeover is not counted as a crash (taken back when it came back, or never counted).
    const final = await waitUntil('the crash to be taken back', async () => {
      const j = await getJob(cluster.api.url, id);
      return j.crashes === 0 ? j : undefined;
    }, 30_000);
    expect(final.events.some((e) => e.kind === 'takeover' && e.workerId === paused.workerId)).toBe(true);
    // And it serves on.
    expect(paused.child.exitCode).toBeNull();
  }, 180_000);
});
