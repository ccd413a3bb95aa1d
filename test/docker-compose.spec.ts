import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));

describe('docker-compose.yml', () => {
  it('passes `docker-compose config -q` (GPU device reservation included)', () => {
    expect(() => execFileSync('docker-compose', ['config', '-q'], { cwd: root, stdio: 'pipe' })).not.toThrow();
  });

  it('runs Redis with AOF and noeviction, and reserves an NVIDIA GPU for the GPU worker', () => {
    const resolved = execFileSync('docker-compose', ['config'], { cwd: root }).toString();
    expect(resolved).toMatch(/--appendonly[\s\S]*yes[\s\S]*--maxmemory-policy[\s\S]*noeviction/);
    expect(resolved).toMatch(/worker-gpu:[\s\S]*capabilities:\s*- gpu[\s\S]*driver: nvidia/);
    expect(readFileSync(`${root}/docker-compose.yml`, 'utf8')).toContain('worker-cpu:');
  });

  it('keeps images in MinIO: API and workers share only Redis and the bucket, which is created before they start', () => {
    const resolved = execFileSync('docker-compose', ['config'], { cwd: root }).toString();
    expect(resolved).toMatch(/minio:\n[\s\S]*image: minio\/minio:/);
    expect(resolved).toMatch(/mc mb --ignore-existing\s+local\/gpuq/);
    for (const service of ['api', 'worker-cpu', 'worker-gpu']) {
      const block = resolved.split(new RegExp(`\\n  ${service}:\\n`))[1]!.split(/\n  [a-z-]+:\n/)[0]!;
      expect(block, service).toMatch(/BLOB_STORE: s3/);
      expect(block, service).toMatch(/S3_ENDPOINT: http:\/\/minio:9000/);
      expect(block, service).toMatch(/minio-init:\s+condition: service_completed_successfully/);
    }
  });

  it('adds Prometheus only with the monitoring profile, scraping the API and every worker on their ports (promtool checks the config)', () => {
    const resolved = parse(execFileSync('docker-compose', ['--profile', 'monitoring', 'config'], { cwd: root }).toString()) as {
      services: Record<string, { profiles?: string[]; volumes?: (string | { source: string; target: string })[]; environment?: Record<string, string> }>;
    };
    const prometheus = resolved.services.prometheus!;
    expect(prometheus.profiles).toEqual(['monitoring']);
    const mounted = JSON.stringify(prometheus.volumes);
    expect(mounted).toContain('deploy/prometheus/prometheus.yml');
    const configFile = `${root}/deploy/prometheus/prometheus.yml`;
    expect(execFileSync('promtool', ['check', 'config', configFile]).toString()).toMatch(/SUCCESS/);
    const scrape = parse(readFileSync(configFile, 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const targets = scrape.scrape_configs.flatMap((j) => j.static_configs.flatMap((c) => c.targets));
    expect(targets).toContain(`api:${resolved.services.api!.environment!.API_PORT}`);
    for (const worker of Object.keys(resolved.services).filter((s) => s.startsWith('worker-'))) {
      expect(targets).toContain(`${worker}:${resolved.services[worker]!.environment!.WORKER_HTTP_PORT}`);
    }
  });
});
