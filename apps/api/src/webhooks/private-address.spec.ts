import { describe, expect, it } from 'vitest';
import { nonPublicKind } from './private-address.js';

describe('nonPublicKind', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'], ['127.8.9.10', 'a loopback address'], ['::1', 'a loopback address'],
    ['10.1.2.3', 'a private address'], ['172.16.0.1', 'a private address'], ['172.31.255.255', 'a private address'], ['192.168.1.1', 'a private address'],
    ['169.254.169.254', 'a link-local address'], ['fe80::1', 'a link-local address'], ['fd12::1', 'a private address'],
    ['0.0.0.0', 'a "this network" address'], ['::', 'the unspecified address'], ['224.0.0.1', 'a multicast address'],
    ['::ffff:127.0.0.1', 'a loopback address'], ['::ffff:10.0.0.1', 'a private address'], ['100.64.0.1', 'a carrier-grade NAT address'],
  ])('%s is %s', (ip, kind) => {
    expect(nonPublicKind(ip)).toBe(kind);
  });

  it.each(['8.8.8.8', '172.32.0.1', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (ip) => {
    expect(nonPublicKind(ip)).toBeUndefined();
  });
});
