// The peer's address of a uWS socket, written as Node writes it. uWS hands over the raw
// bytes (4 for IPv4, 16 for IPv6); its own text form spells IPv6 out in full
// (`0000:0000:...:0001`), where Node writes `::1` and an IPv4 client of a dual-stack
// socket as `::ffff:127.0.0.1`. Logs, --trust-proxy lists and the per-address caps all
// compare these strings, so both engines must write them alike.

const IPV4_BYTES = 4;
const IPV6_BYTES = 16;
/** The first 12 bytes of an IPv4-mapped IPv6 address (RFC 4291 2.5.5.2). */
const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** `raw` (uWS getRemoteAddress()) as text; `unknown` for anything else (a socket already gone). */
export function formatRemoteAddress(raw: ArrayBuffer): string {
  const bytes = new Uint8Array(raw);
  if (bytes.length === IPV4_BYTES) return bytes.join('.');
  if (bytes.length !== IPV6_BYTES) return 'unknown';
  if (MAPPED_PREFIX.every((byte, i) => bytes[i] === byte)) return `::ffff:${bytes.subarray(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < IPV6_BYTES; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return compressZeros(groups);
}

/** RFC 5952 4.2: the longest run of two or more zero groups becomes `::` (the first such run on a tie). */
function compressZeros(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let end = i;
    while (end < groups.length && groups[end] === '0') end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  if (bestStart === -1) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}
