import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** A real S3-protocol server (s3rver) on a free loopback port, with one bucket; its credentials are s3rver's fixed pair. */
export class TestS3 {
  private constructor(private readonly server: S3rver, readonly dir: string, readonly endpoint: string, readonly bucket: string) {}

  static async start(bucket = 'gpuq-test'): Promise<TestS3> {
    const dir = mkdtempSync(join(tmpdir(), 'gpuq-s3-'));
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
    const { port } = await server.run();
    return new TestS3(server, dir, `http://127.0.0.1:${port}`, bucket);
  }

  /** Settings that point gpuq at this server. */
  env(): Record<string, string> {
    return {
      BLOB_STORE: 's3', S3_BUCKET: this.bucket, S3_ENDPOINT: this.endpoint, S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER',
    };
  }

  async stop(): Promise<void> {
    await this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
