import { describe, expect, it } from 'vitest';
import { checkWebhookTarget, publicOnlyLookup, WebhookTargetError } from './webhook-target.js';

const lookup = (allowPrivate: boolean, host: string) =>
  new Promise<string>((resolve, reject) => publicOnlyLookup(allowPrivate)(host, {}, (err, address) => (err ? reject(err) : resolve(String(address)))));

describe('webhook targets', () => {
  it('refuses names and literals that reach this host, and URLs with credentials', async () => {
    await expect(checkWebhookTarget('http://localhost:8080/x', false)).rejects.toThrow(/localhost is (127\.0\.0\.1|::1), a loopback address/);
    await expect(checkWebhookTarget('http://[::1]/x', false)).rejects.toBeInstanceOf(WebhookTargetError);
    await expect(checkWebhookTarget('https://user:pw@example.com/x', false)).rejects.toThrow(/credentials/);
    await expect(checkWebhookTarget('not a url', false)).rejects.toThrow(/not a URL/);
  });

  it('allows private targets when told to', async () => {
    expect((await checkWebhookTarget('http://127.0.0.1:9/hook', true)).href).toBe('http://127.0.0.1:9/hook');
  });

  it('checks the address again when the delivery connects (a name that now resolves to loopback is refused)', async () => {
    await expect(lookup(false, 'localhost')).rejects.toThrow(/a loopback address/);
    await expect(lookup(true, 'localhost')).resolves.toMatch(/^(127\.0\.0\.1|::1)$/);
  });
});
