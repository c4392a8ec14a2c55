// The uws engine writes a peer's address as Node does, so that logs, --trust-proxy lists
// and the per-address caps compare the same strings on both engines.

import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { test } from 'node:test';
import { formatRemoteAddress } from '../server/engines/uws/remote-address.js';

function raw(bytes: number[]): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

const v6 = (...groups: number[]): number[] => groups.flatMap((g) => [g >> 8, g & 0xff]);

test('IPv4, IPv4-mapped IPv6 and IPv6 peers are written as Node writes them', () => {
  assert.equal(formatRemoteAddress(raw([127, 0, 0, 1])), '127.0.0.1');
  assert.equal(formatRemoteAddress(raw(v6(0, 0, 0, 0, 0, 0xffff, 0x7f00, 0x0001))), '::ffff:127.0.0.1');
  assert.equal(formatRemoteAddress(raw(v6(0, 0, 0, 0, 0, 0, 0, 1))), '::1');
  assert.equal(formatRemoteAddress(raw(v6(0, 0, 0, 0, 0, 0, 0, 0))), '::');
  assert.equal(formatRemoteAddress(raw(v6(0xfe80, 0, 0, 0, 0x1, 0x2, 0x3, 0x4))), 'fe80::1:2:3:4');
  // The longest run of zeros is the one compressed; a single zero group is not.
  assert.equal(formatRemoteAddress(raw(v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 0))), '2001:db8:0:0:1::');
  assert.equal(formatRemoteAddress(raw(v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1))), '2001:db8:0:1:1:1:1:1');
  for (const text of ['::1', 'fe80::1:2:3:4', '2001:db8:0:0:1::']) assert.ok(isIPv6(text), text);
  assert.equal(formatRemoteAddress(raw([])), 'unknown');
});
