import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { nonPublicKind } from './private-address.js';

/** Why a webhook URL is refused, in words. */
export class WebhookTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

const resolveAll = (host: string) =>
  new Promise<LookupAddress[]>((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/**
 * Checks a webhook URL at submit: http or https, no credentials in it, and (unless `allowPrivate`) every address
 * its host resolves to is public, so a job cannot make the server call into its own network.
 */
export async function checkWebhookTarget(raw: string, allowPrivate: boolean): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookTargetError(`${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WebhookTargetError(`the webhook must be http or https, not ${url.protocol}`);
  if (url.username || url.password) throw new WebhookTargetError('the webhook URL may not carry credentials (each delivery is signed instead)');
  if (allowPrivate) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await resolveAll(host)).map((a) => a.address);
  } catch (err) {
    throw new WebhookTargetError(`the webhook host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  for (const address of addresses) {
    const kind = nonPublicKind(address);
    if (kind) throw new WebhookTargetError(`the webhook host ${host} is ${address}, ${kind}; set WEBHOOK_ALLOW_PRIVATE=true to allow private targets`);
  }
  return url;
}

/**
 * A DNS lookup for delivery sockets that refuses non-public addresses at connect time: a name that resolved to
 * a public address at submit and to 127.0.0.1 at delivery (DNS rebinding) is still refused.
 */
export function publicOnlyLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = allowPrivate ? undefined : addresses.find((a) => nonPublicKind(a.address));
      if (refused) return callback(new WebhookTargetError(`${hostname} is ${refused.address}, ${nonPublicKind(refused.address)}`), '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
