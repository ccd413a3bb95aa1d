import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./libs/${path}/index.ts`, import.meta.url));
const libs: Record<string, string> = {
  contracts: 'contracts/src', config: 'config/src', scheduling: 'scheduling/src', queue: 'queue/src',
  inference: 'inference/src', device: 'device/src', blobs: 'blobs/src', models: 'inference/src/models', client: 'client/src', images: 'images/src',
};

export default defineConfig({
  resolve: {
    tsconfigPaths: true,
    // Node resolves `#lib` through package.json "imports" (built files); tests run the TypeScript sources.
    alias: Object.entries(libs).map(([name, path]) => ({ find: new RegExp(`^#${name}$`), replacement: src(path) })),
  },
  test: {
    include: ['apps/**/*.spec.ts', 'libs/**/*.spec.ts', 'test/**/*.spec.ts'],
    globalSetup: ['test/setup/required-tools.ts', 'test/setup/global-redis.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests spawn real processes and share one redis-server; keep files serial on 2 cores.
    fileParallelism: false,
    env: { LOG_LEVEL: 'warn' },
  },
});
