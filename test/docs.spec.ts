import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JOB_ERROR_CODES, PROBLEMS } from '#contracts';
import { configSchema } from '#config';

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), 'utf8');

describe('docs match the code', () => {
  it('docs/errors.md lists every problem code with its status, and no other', () => {
    const rows = [...read('docs/errors.md').matchAll(/^\| `([a-z-]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(PROBLEMS).map(([code, p]) => [code, p.status])));
  });

  it('docs/errors.md lists every job error code, and no other', () => {
    const errors = read('docs/errors.md');
    const table = errors.slice(errors.indexOf('## Why a job failed'));
    const rows = [...table.matchAll(/^\| `([a-z-]+)` \| /gm)].map((m) => m[1]!);
    expect(rows.sort()).toEqual([...JOB_ERROR_CODES].sort());
  });

  it("the README's configuration table lists every variable, and no other", () => {
    const readme = read('README.md');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Docker'));
    const listed = new Set([...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((v) => v[1]!)));
    expect([...listed].sort()).toEqual(Object.keys(configSchema.shape).sort());
  });
});
