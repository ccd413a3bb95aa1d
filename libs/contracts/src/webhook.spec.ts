import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from './webhook.js';

describe('webhook signatures', () => {
  const body = '{"type":"job.completed","jobId":"j1"}';

  it('verifies what was signed, within the tolerance', () => {
    const header = signWebhook('whsec_a', body, 1_700_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook('whsec_a', body, header, 1_700_000_100)).toBe(true);
  });

  it('refuses another secret, another body, an old timestamp and a malformed header', () => {
    const header = signWebhook('whsec_a', body, 1_700_000_000);
    expect(verifyWebhook('whsec_b', body, header, 1_700_000_000)).toBe(false);
    expect(verifyWebhook('whsec_a', `${body} `, header, 1_700_000_000)).toBe(false);
    expect(verifyWebhook('whsec_a', body, header, 1_700_000_301)).toBe(false);
    expect(verifyWebhook('whsec_a', body, 'v1=abc', 1_700_000_000)).toBe(false);
  });
});
