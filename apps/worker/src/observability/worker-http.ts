import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkerMetrics } from './worker-metrics.js';

/** What readiness checks, each answering with a reason when not ready. */
export type ReadinessCheck = () => Promise<{ ready: boolean; checks: Record<string, string> }>;

/**
 * The worker's own small HTTP port: `/metrics` for Prometheus, `/health/live` (the process answers) and
 * `/health/ready` (it takes work: started, not draining, Redis answers). It listens from the first moment, so a
 * liveness probe passes while the device is probed and self-tested (minutes on a GPU). Node's http module is enough here; the
 * worker has no framework to carry.
 */
export class WorkerHttp {
  private constructor(private readonly server: Server) {}

  static async listen(host: string, port: number, metrics: () => WorkerMetrics | undefined, readiness: ReadinessCheck): Promise<WorkerHttp> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method !== 'GET') return json(405, { status: 'error', detail: 'only GET' });
      if (path === '/health/live') return json(200, { status: 'ok' });
      if (path === '/health/ready') {
        return void readiness().then(
          ({ ready, checks }) => json(ready ? 200 : 503, { status: ready ? 'ok' : 'error', checks }),
          (err: Error) => json(503, { status: 'error', checks: { readiness: err.message } }),
        );
      }
      if (path === '/metrics') {
        // Metrics exist once the device is probed (they are labelled with it); until then the worker is starting.
        const registry = metrics();
        if (!registry) return json(503, { status: 'error', detail: 'starting: probing the device' });
        return void registry.exposition().then(
          ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
          (err: Error) => json(500, { status: 'error', detail: err.message }),
        );
      }
      json(404, { status: 'error', detail: `no route ${path}: /metrics, /health/live, /health/ready` });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return new WorkerHttp(server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
}
