// Redis stream ids as the load test orders and digests them.
import { describe, expect, it } from 'vitest';
import { IdDigest, compareStreamIds } from './ids.js';

describe('stream ids', () => {
  it('order by time then sequence, beyond 2^53 too; the digest depends on every id and their order', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('18446744073709551615-1', '18446744073709551615-0')).toBeGreaterThan(0);
    expect(compareStreamIds('5-5', '5-5')).toBe(0);
    const digest = (ids: string[]) => {
      const d = new IdDigest();
      for (const id of ids) d.add(id);
      return d.value();
    };
    expect(digest(['1-0', '2-0'])).toBe(digest(['1-0', '2-0']));
    expect(digest(['1-0', '2-0'])).not.toBe(digest(['2-0', '1-0']));
    expect(digest(['1-0', '2-0'])).not.toBe(digest(['1-0', '2-1']));
    expect(digest([])).toBe('0:811c9dc5');
  });
});
