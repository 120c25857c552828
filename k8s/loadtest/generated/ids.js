// Generated from loadtest/ids.js by `npm run generate`. Do not edit by hand.
// Redis stream ids as the load test compares them: order, and a digest that lets a
// subscriber prove it received exactly the published list without sending the list.

/**
 * Orders two stream ids `<ms>-<seq>`: negative when a < b, 0 when equal, positive when a > b.
 * Both parts are compared as decimal strings, so ids beyond 2^53 compare correctly too.
 * @param {string} a
 * @param {string} b
 */
export function compareStreamIds(a, b) {
  const [aMs = '', aSeq = ''] = a.split('-');
  const [bMs = '', bSeq = ''] = b.split('-');
  return compareDecimal(aMs, bMs) || compareDecimal(aSeq, bSeq);
}

/**
 * @param {string} a
 * @param {string} b
 */
function compareDecimal(a, b) {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * Count plus a 32-bit FNV-1a hash over the ids in the order added. Two ledgers with the
 * same digest saw the same ids in the same order (up to a 1 in 2^32 collision).
 */
export class IdDigest {
  constructor() {
    this.count = 0;
    this.hash = FNV_OFFSET;
  }

  /** @param {string} id */
  add(id) {
    let hash = this.hash;
    const text = `${id}\n`;
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, FNV_PRIME) >>> 0;
    }
    this.hash = hash;
    this.count++;
  }

  /** `<count>:<hash in hex>` */
  value() {
    return `${this.count}:${this.hash.toString(16).padStart(8, '0')}`;
  }
}
