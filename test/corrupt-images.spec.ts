import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { GpuqClient } from '#client';
import { TERMINAL_STATES } from '#contracts';
import { renderTextImage } from './fixtures/text-images.js';
import { mulberry32 } from './support/seeded-random.js';
import { client, startApi, testEnv, waitUntil, WorkerProcess } from './support/stack.js';

const SEED = 16_2026;
const ROUNDS = 120;
const TIME_BUDGET_MS = 90_000;

type Mutation = (bytes: Buffer, random: () => number) => Buffer;
const at = (bytes: Buffer, random: () => number) => Math.floor(random() * bytes.length);

/** Ways a file gets damaged on its way: flipped bits, cut short, bytes lost or inserted, a run zeroed, a block repeated. */
const MUTATIONS: Record<string, Mutation> = {
  flip: (b, r) => {
    const out = Buffer.from(b);
    for (let i = 1 + Math.floor(r() * 8); i > 0; i--) {
      const k = at(out, r);
      out[k] = out[k]! ^ (1 << Math.floor(r() * 8));
    }
    return out;
  },
  truncate: (b, r) => b.subarray(0, at(b, r)),
  drop: (b, r) => {
    const k = at(b, r);
    return Buffer.concat([b.subarray(0, k), b.subarray(k + 1 + Math.floor(r() * 64))]);
  },
  insert: (b, r) => {
    const k = at(b, r);
    return Buffer.concat([b.subarray(0, k), Buffer.from(Array.from({ length: 1 + Math.floor(r() * 32) }, () => Math.floor(r() * 256))), b.subarray(k)]);
  },
  zero: (b, r) => {
    const out = Buffer.from(b);
    const k = at(out, r);
    out.fill(0, k, Math.min(out.length, k + 1 + Math.floor(r() * 256)));
    return out;
  },
  repeat: (b, r) => {
    const k = at(b, r);
    const block = b.subarray(k, k + 1 + Math.floor(r() * 128));
    return Buffer.concat([b.subarray(0, k), block, block, b.subarray(k + block.length)]);
  },
};

describe('randomly corrupted images', () => {
  // The loop submits faster than one worker finishes, and polls: lift the per-key limits (tested in api-refusals.spec.ts).
  const env = testEnv(inject('redisUrl'), { WORKER_DEVICE: 'cpu', MAX_CONCURRENT_JOBS: '1000', RATE_LIMIT_PER_MIN: '100000', RATE_LIMIT_BURST: '1000' });
  let api: Awaited<ReturnType<typeof startApi>>;
  let worker: WorkerProcess;
  let as: GpuqClient;
  let originals: Record<string, Buffer>;

  beforeAll(async () => {
    [api, worker] = await Promise.all([startApi(env), WorkerProcess.start(env)]);
    as = client(api.url);
    const page = (await renderTextImage({ width: 320, height: 120, lines: [{ text: 'corrupt me', x: 10, y: 70, fontSize: 32 }] })).png;
    originals = {
      png: page, jpeg: await sharp(page).jpeg().toBuffer(), webp: await sharp(page).webp().toBuffer(),
      gif: await sharp(page).gif().toBuffer(), tiff: await sharp(page).tiff().toBuffer(),
    };
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.app.close();
  });

  it(`never answer 5xx nor crash the worker: refused at submit with 400/415, or run to a clean end (seed ${SEED})`, async () => {
    const random = mulberry32(SEED);
    const formats = Object.keys(originals);
    const mutations = Object.keys(MUTATIONS);
    const outcomes: Record<string, number> = {};
    const accepted: string[] = [];
    const started = Date.now();
    for (let round = 0; round < ROUNDS && Date.now() - started < TIME_BUDGET_MS; round++) {
      const format = formats[Math.floor(random() * formats.length)]!;
      const mutation = mutations[Math.floor(random() * mutations.length)]!;
      const damaged = MUTATIONS[mutation]!(originals[format]!, random);
      const what = `round ${round}: ${mutation} ${format} (${damaged.length} bytes)`;
      const res = await as.submit([{ name: `r${round}.${format}`, data: damaged }], { model: 'ppocr-v4-det-640', allowCpu: 'true' });
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBeLessThan(500);
      if (res.status === 202) {
        accepted.push(res.body.id as string);
      } else {
        expect(['corrupt-image', 'unsupported-format', 'too-many-pixels'], `${what}: ${JSON.stringify(res.body)}`).toContain(res.body.code);
      }
      const key = res.status === 202 ? 'accepted' : String(res.body.code);
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    // Every accepted file ends cleanly: results, or a job failed as bad input (the decoder's verdict), never a crash.
    for (const id of accepted) {
      const job = await waitUntil(`job ${id} to finish`, async () => {
        const j = await as.job(id);
        return TERMINAL_STATES.has(j.state) ? j : undefined;
      }, 60_000);
      if (job.state !== 'completed') expect(job.error, JSON.stringify(job.events)).toMatchObject({ code: 'bad-input' });
      expect(job.crashes).toBe(0);
      const key = job.state === 'completed' ? 'accepted, completed' : 'accepted, failed as bad input';
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    expect(worker.child.exitCode).toBeNull();
    expect(worker.child.signalCode).toBeNull();
    expect(worker.lines.filter((l) => l.includes('placement crashed'))).toEqual([]);
    expect((await as.workers()).map((w) => w.workerId)).toContain(worker.workerId);
    // The loop must have exercised both paths, or it proves little.
    expect(outcomes['corrupt-image'] ?? 0).toBeGreaterThan(10);
    console.log(`corrupted images, seed ${SEED}: ${JSON.stringify(outcomes)}`);
  }, 240_000);
});
