import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../setup/redis-server.js';

/** A scrape target: a job name and host:port addresses whose /metrics Prometheus reads. */
export interface ScrapeJob {
  job: string;
  targets: string[];
}

/**
 * A real Prometheus (Debian's `prometheus`) owned by a test: its own config, scraping every second, its data in a
 * temporary folder, on a free loopback port. Asked only through its HTTP API, as KEDA asks it.
 */
export class TestPrometheus {
  private constructor(private readonly child: ChildProcess, private readonly dir: string, readonly url: string, private readonly output: () => string) {}

  static async start(jobs: ScrapeJob[]): Promise<TestPrometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'gpuq-prometheus-'));
    const port = await freePort();
    const config = ['global:', '  scrape_interval: 1s', '  scrape_timeout: 900ms', 'scrape_configs:',
      ...jobs.flatMap((j) => [`  - job_name: ${j.job}`, '    static_configs:', `      - targets: [${j.targets.map((t) => `"${t}"`).join(', ')}]`])].join('\n');
    writeFileSync(join(dir, 'prometheus.yml'), `${config}\n`);
    const child = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const prometheus = new TestPrometheus(child, dir, `http://127.0.0.1:${port}`, () => out);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${out}`);
      if ((await fetch(`${prometheus.url}/-/ready`).then((r) => r.ok, () => false))) return prometheus;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`prometheus not ready within 30 s: ${out}`);
  }

  /** An instant query's single value (undefined when the result is empty). */
  async value(query: string): Promise<number | undefined> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: { value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${query} failed: ${body.error}`);
    const [first] = body.data.result;
    return first ? Number(first.value[1]) : undefined;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      await new Promise<void>((resolve) => {
        this.child.once('exit', () => resolve());
        this.child.kill('SIGTERM');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  get log(): string {
    return this.output();
  }
}
