import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { publicOnlyLookup } from './webhook-target.js';

/** Bytes of a receiver's answer kept for the job's events (the rest is read and dropped). */
const ANSWER_BYTES = 200;

/**
 * POSTs one delivery. Redirects are not followed (a redirect could point anywhere), and the socket's address is
 * checked when it connects (publicOnlyLookup). Resolves with the status and the start of the answer.
 */
export function postWebhook(url: URL, body: string, headers: Record<string, string>, opts: { timeoutMs: number; allowPrivate: boolean }): Promise<{ status: number; answer: string }> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'gpuq-webhook', ...headers },
      lookup: publicOnlyLookup(opts.allowPrivate),
      timeout: opts.timeoutMs,
    }, (res) => {
      let answer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (answer.length < ANSWER_BYTES) answer += chunk.slice(0, ANSWER_BYTES - answer.length);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, answer }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
