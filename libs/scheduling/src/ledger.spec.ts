import { describe, expect, it } from 'vitest';
import { VramLedger } from './ledger.js';

type Step =
  | { op: 'reserve'; job: string; bytes: number; free: number; ok: boolean; reason?: string }
  | { op: 'release'; job: string }
  | { op: 'resize'; job: string; bytes: number };

describe('VramLedger', () => {
  it.each<[string, number, Step[], number, string[]]>([
    ['one reservation within free memory', 24e9, [{ op: 'reserve', job: 'a', bytes: 10e9, free: 20e9, ok: true }], 10e9, ['a']],
    [
      'a second job sees the first one reserved',
      24e9,
      [
        { op: 'reserve', job: 'a', bytes: 10e9, free: 20e9, ok: true },
        { op: 'reserve', job: 'b', bytes: 11e9, free: 20e9, ok: false, reason: 'job b needs 11.00 GB; gpu0 has 10.00 GB unreserved (20.00 GB free - 10.00 GB reserved by 1 other job(s))' },
        { op: 'reserve', job: 'c', bytes: 10e9, free: 20e9, ok: true },
      ],
      20e9,
      ['a', 'c'],
    ],
    [
      'exactly full is allowed',
      24e9,
      [{ op: 'reserve', job: 'a', bytes: 20e9, free: 20e9, ok: true }],
      20e9,
      ['a'],
    ],
    [
      'free memory above the card size is capped by the card',
      24e9,
      [{ op: 'reserve', job: 'a', bytes: 30e9, free: 40e9, ok: false, reason: 'needs 30.00 GB; gpu0 has 24.00 GB unreserved' }],
      0,
      [],
    ],
    [
      'release gives the room back',
      24e9,
      [
        { op: 'reserve', job: 'a', bytes: 15e9, free: 20e9, ok: true },
        { op: 'release', job: 'a' },
        { op: 'reserve', job: 'b', bytes: 15e9, free: 20e9, ok: true },
      ],
      15e9,
      ['b'],
    ],
    [
      'releasing an unknown job is a no-op',
      24e9,
      [{ op: 'release', job: 'nope' }],
      0,
      [],
    ],
    [
      'resize shrinks after a smaller batch, making room',
      24e9,
      [
        { op: 'reserve', job: 'a', bytes: 15e9, free: 20e9, ok: true },
        { op: 'resize', job: 'a', bytes: 5e9 },
        { op: 'reserve', job: 'b', bytes: 15e9, free: 20e9, ok: true },
      ],
      20e9,
      ['a', 'b'],
    ],
    [
      'reserving again for the same job replaces its reservation',
      24e9,
      [
        { op: 'reserve', job: 'a', bytes: 15e9, free: 20e9, ok: true },
        { op: 'reserve', job: 'a', bytes: 18e9, free: 20e9, ok: true },
      ],
      18e9,
      ['a'],
    ],
  ])('%s', (_name, total, steps, reserved, jobs) => {
    const ledger = new VramLedger(total, 'gpu0');
    for (const step of steps) {
      if (step.op === 'release') ledger.release(step.job);
      else if (step.op === 'resize') ledger.resize(step.job, step.bytes);
      else {
        const result = ledger.reserve(step.job, step.bytes, step.free);
        expect(result.ok).toBe(step.ok);
        if (!result.ok) {
          expect(result.reason).toMatchObject({ target: 'gpu0', resource: 'memory', requested: step.bytes });
          expect(result.reason.reason).toContain(step.reason);
        }
      }
    }
    expect(ledger.reservedBytes).toBe(reserved);
    expect(ledger.entries().map((e) => e.jobId)).toEqual(jobs);
  });

  it.each([
    ['resize of an unknown job', (l: VramLedger) => l.resize('x', 1)],
    ['negative reservation', (l: VramLedger) => l.reserve('x', -1, 1e9)],
  ])('throws on %s', (_name, act) => {
    expect(() => act(new VramLedger(1e9))).toThrow();
  });
});
