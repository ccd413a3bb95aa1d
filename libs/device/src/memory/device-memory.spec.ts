import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NvidiaSmi } from '../probe/nvidia-smi.js';
import { CpuMemory, GpuMemory } from './device-memory.js';

const MIB = 2 ** 20;
const execFileP = promisify(execFile);

/** A GPU whose memory.used the test sets; the monitor gets a reading at every change, as nvidia-smi -lms would. */
function fakeGpu(startMiB: number) {
  const ids: (number | string)[] = [];
  const waits = { count: 0 };
  let used = startMiB;
  const samples: { at: number; usedBytes: number; freeBytes: number; totalBytes: number }[] = [];
  const reading = () => ({ at: Date.now(), usedBytes: used * MIB, freeBytes: (80_000 - used) * MIB, totalBytes: 80_000 * MIB });
  const smi = {
    memory: async (id: number | string) => (ids.push(id), reading()),
    monitorMemory: (id: number | string) => {
      ids.push(id);
      samples.push(reading());
      return {
        ready: Promise.resolve(), alive: true, close: () => undefined,
        latest: () => samples.at(-1),
        peakSince: (since: number) => Math.max(...samples.filter((s) => s.at >= since).map((s) => s.usedBytes)),
        sampleAfter: async () => (waits.count++, samples.push({ ...reading(), at: Date.now() + 1 }), samples.at(-1)),
      };
    },
  } as unknown as NvidiaSmi;
  const set = (mib: number) => {
    used = mib;
    samples.push(reading());
  };
  /** Memory changes between two of the monitor's readings. */
  const setUnread = (mib: number) => void (used = mib);
  return { smi, ids, set, setUnread, waits };
}

describe('GpuMemory', () => {
  it('sees the peak inside the run, and tells the run\'s own growth from memory kept from earlier runs', async () => {
    const gpu = fakeGpu(500);
    const memory = new GpuMemory(gpu.smi, 'GPU-6ca8', 1);
    await memory.init();
    gpu.set(6500); // a calibration left 6,000 MiB held
    const tracked = await memory.track(async () => {
      gpu.set(7200); // the batch's transient peak, gone before it returns
      gpu.set(6700);
      return 'done';
    });
    expect(tracked).toEqual({ result: 'done', peakBytes: 6700 * MIB, growthBytes: 700 * MIB });
    expect(new Set(gpu.ids)).toEqual(new Set(['GPU-6ca8'])); // asked by UUID: indexes differ inside a GPU namespace
  });

  it('waits for the reading after a run only when asked to settle (calibration), not for job batches', async () => {
    const gpu = fakeGpu(500);
    const memory = new GpuMemory(gpu.smi, 'GPU-6ca8', 1);
    await memory.init();
    const tracked = await memory.track(async () => gpu.set(900), { settle: false });
    expect(tracked.growthBytes).toBe(400 * MIB);
    expect(gpu.waits.count).toBe(0);
    await memory.track(async () => gpu.set(900));
    expect(gpu.waits.count).toBe(2); // a fresh reading before the run, and the first one after it
  });

  it('starts a settled run from a fresh reading, not a stale one of memory freed since', async () => {
    const gpu = fakeGpu(500);
    const memory = new GpuMemory(gpu.smi, 'GPU-6ca8', 1);
    await memory.init();
    gpu.set(17_500); // a large calibration size ran
    gpu.setUnread(560); // and was freed, but the monitor has not read memory since
    await new Promise((r) => setTimeout(r, 5));
    const tracked = await memory.track(async () => gpu.set(580));
    expect(tracked.peakBytes).toBe(80 * MIB);
  });

  it('counts memory it holds as available, but not another process\'s growth', async () => {
    const gpu = fakeGpu(1000);
    const memory = new GpuMemory(gpu.smi, 0, 1);
    await memory.init();
    await memory.track(async () => gpu.set(3000)); // this process now holds 2,000 MiB
    gpu.set(9000); // another process took 6,000 MiB more
    expect(await memory.availableBytes()).toBe((80_000 - 9000 + 2000) * MIB);
  });
});

describe('NvidiaSmi.monitorMemory', () => {
  async function fakeSmiBinary(script: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'gpuq-smi-'));
    const bin = join(dir, 'nvidia-smi');
    await writeFile(bin, `#!/bin/sh\n${script}\n`);
    await chmod(bin, 0o755);
    return bin;
  }
  const fakeSmi = async (script: string) => new NvidiaSmi(await fakeSmiBinary(script));

  it('gives the peak of a window and the first reading after it', async () => {
    // memory.used, free, total every 20 ms, as `nvidia-smi -lms 20` prints them: 100, then 900 once, then 300.
    const smi = await fakeSmi('echo "100, 900, 1000"; sleep 0.05; echo "900, 100, 1000"; while true; do sleep 0.02; echo "300, 700, 1000"; done');
    const monitor = smi.monitorMemory('GPU-6ca8', 20);
    await monitor.ready;
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 200)); // a batch runs (on the session thread: this one stays free)
    const after = await monitor.sampleAfter(Date.now(), 1000);
    expect(after?.usedBytes).toBe(300 * MIB);
    expect(monitor.peakSince(started)).toBe(900 * MIB);
    const readings = monitor.readingsSince(started).map((r) => r.usedBytes / MIB);
    expect(readings).toContain(900);
    expect(readings.at(-1)).toBe(300); // oldest first
    expect(monitor.latest()).toMatchObject({ usedBytes: 300 * MIB, freeBytes: 700 * MIB, totalBytes: 1000 * MIB });
    monitor.close();
    expect(monitor.alive).toBe(false);
    expect(await monitor.sampleAfter(Date.now(), 1000)).toBeUndefined();
  });

  it('keeps a process that awaits its first reading alive (a bench or CLI with nothing else pending)', async () => {
    // Before the fix, the monitor's process was unref'd from the start: `await monitor.ready` in a script with
    // nothing else pending ended Node with exit 13 (unsettled top-level await), as once on the H100.
    const bin = await fakeSmiBinary('sleep 0.3; while true; do echo "100, 900, 1000"; sleep 0.02; done');
    const script = `import { NvidiaSmi } from ${JSON.stringify(join(process.cwd(), 'dist/libs/device/src/probe/nvidia-smi.js'))};
      const m = new NvidiaSmi(${JSON.stringify(bin)}).monitorMemory(0, 20);
      await m.ready;
      const s = await m.sampleAfter(Date.now(), 1000);
      console.log(m.alive, s && s.usedBytes);`;
    const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    expect(stdout.trim()).toBe(`true ${100 * MIB}`);
  });

  it('says so when nvidia-smi cannot run, and GpuMemory falls back to single readings', async () => {
    const monitor = new NvidiaSmi('/nonexistent/nvidia-smi').monitorMemory(0, 20);
    await monitor.ready;
    expect(monitor.alive).toBe(false);
    expect(monitor.latest()).toBeUndefined();
  });
});

describe('GpuMemory per process (CUDA)', () => {
  it('reads its own process: another process growing on the card is neither its peak nor its holding, and each session holds its own arena', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpuq-smi-proc-'));
    const set = (file: 'dev' | 'proc', value: string) => writeFile(join(dir, file), `${value}\n`);
    await set('dev', '1000, 79000, 80000');
    await set('proc', '600');
    // Another CUDA process (pid 999) is listed too; the card's figures count both.
    const bin = join(dir, 'nvidia-smi');
    await writeFile(bin, `#!/bin/sh
case "$*" in
  *compute-apps*) while true; do echo "999, 400"; echo "${process.pid}, $(cat ${dir}/proc)"; sleep 0.02; done ;;
  *) while true; do cat ${dir}/dev; sleep 0.02; done ;;
esac
`);
    await chmod(bin, 0o755);
    const memory = new GpuMemory(new NvidiaSmi(bin), 'GPU-6ca8', 20, process.pid);
    await memory.init();
    expect(memory.perProcess).toBe(true);
    const tracked = await memory.forSession('ppocr|bf16|cuda').track(async () => {
      await set('proc', '2600'); // this session's arena grows by 2,000 MiB
      await set('dev', '8000, 72000, 80000'); // while another process takes 5,000 MiB more
      await new Promise((r) => setTimeout(r, 150));
    });
    expect(tracked.peakBytes).toBe(2000 * MIB);
    expect(tracked.growthBytes).toBe(2000 * MIB);
    await new Promise((r) => setTimeout(r, 100));
    // Free on the card, plus what this process's arenas hold: for the session that grew it, and for the process.
    expect(await memory.forSession('ppocr|bf16|cuda').availableBytes()).toBe((72_000 + 2000) * MIB);
    expect(await memory.availableBytes()).toBe((72_000 + 2000) * MIB);
    // Another session has an arena of its own: the first one's memory is not free to it.
    expect(await memory.forSession('ppocr|fp32|cuda').availableBytes()).toBe(72_000 * MIB);
    memory.close();
  });

  it('settles the first two runs of a shape on a session, whose growth can show only after the run, and no later one', async () => {
    const gpu = fakeGpu(500);
    const proc = fakeGpu(300); // the process's own readings, as nvidia-smi lists CUDA processes
    const processMonitor = proc.smi.monitorMemory('proc', 1);
    const smi = Object.assign(gpu.smi, { monitorProcessMemory: () => processMonitor });
    const memory = new GpuMemory(smi, 'GPU-6ca8', 1, process.pid);
    await memory.init();
    const session = memory.forSession('ppocr|fp32|cuda');
    // The arena's regions show in a reading only after the run ended: tensor by tensor on the first run, the
    // memory pattern's block on the second.
    const first = await session.track(async () => proc.setUnread(630), { settle: false, shape: '3' });
    expect(first.peakBytes).toBe(330 * MIB);
    const second = await session.track(async () => proc.setUnread(1420), { settle: false, shape: '3' });
    expect(second.peakBytes).toBe(1120 * MIB);
    const waits = proc.waits.count;
    const third = await session.track(async () => undefined, { settle: false, shape: '3' });
    expect(third.peakBytes).toBe(1120 * MIB);
    expect(proc.waits.count).toBe(waits);
  });

  it('keeps what a failed run grew as its session\'s: the arena holds it for the retry', async () => {
    const gpu = fakeGpu(500);
    const proc = fakeGpu(300);
    const processMonitor = proc.smi.monitorMemory('proc', 1);
    const smi = Object.assign(gpu.smi, { monitorProcessMemory: () => processMonitor });
    const memory = new GpuMemory(smi, 'GPU-6ca8', 1, process.pid);
    await memory.init();
    const session = memory.forSession('ppocr|fp32|cuda');
    gpu.set(79_600); // another process holds all but 400 MiB of the card
    const oom = session.track(async () => {
      proc.setUnread(676); // the arena grew by 376 MiB, then the next allocation failed
      gpu.set(79_976);
      throw new Error('Failed to allocate memory for requested buffer of size 3276800');
    }, { settle: false, shape: '3' });
    await expect(oom).rejects.toThrow(/Failed to allocate/);
    // Free on the card (24 MiB) plus the 376 MiB this session's arena holds and will reuse.
    expect(await session.availableBytes()).toBe((24 + 376) * MIB);
  });

  it('falls back to the card\'s figures where nvidia-smi lists no processes', async () => {
    const gpu = fakeGpu(500);
    const smi = Object.assign(gpu.smi, { monitorProcessMemory: () => ({ ready: Promise.resolve(), alive: false, latest: () => undefined }) });
    const memory = new GpuMemory(smi, 'GPU-6ca8', 1, process.pid);
    await memory.init();
    expect(memory.perProcess).toBe(false);
    expect((await memory.track(async () => gpu.set(900), { settle: false })).peakBytes).toBe(400 * MIB);
  });
});

describe('CpuMemory', () => {
  it('sees a peak that came and went while the event loop was blocked', async () => {
    const memory = new CpuMemory(8 * 2 ** 30, 1);
    const { growthBytes } = await memory.track(async () => {
      const block = Buffer.alloc(400 * MIB, 1); // touched, so resident; freed before the run returns
      const until = Date.now() + 50;
      while (Date.now() < until);
      return block.length;
    });
    expect(growthBytes).toBeGreaterThan(300 * MIB);
  });
});
