import type { TestProject } from 'vitest/node';
import { TestRedis } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** One redis-server per test run on a free port; each test file uses its own key prefix. */
export default async function setup(project: TestProject) {
  const redis = await TestRedis.start();
  project.provide('redisUrl', redis.url);
  return async () => redis.stop();
}
