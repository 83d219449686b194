import { describe, expect, it } from 'vitest';
import { parseQuantity } from './quantity.ts';

describe('parseQuantity', () => {
  it.each([
    [4, 4],
    ['4', 4],
    ['500m', 0.5],
    ['1.5', 1.5],
    ['64Gi', 64 * 2 ** 30],
    ['512Mi', 512 * 2 ** 20],
    ['2k', 2000],
    ['1G', 1e9],
    ['1e3', 1000],
    ['.5', 0.5],
    ['0', 0],
  ] as const)('reads %j as %d', (input, expected) => {
    expect(parseQuantity(input)).toBe(expected);
  });

  it.each([-1, Number.NaN, '', 'abc', '-1', '5 Gi', '1gi', '1Gib', '1.2.3'])('rejects %j', (input) => {
    expect(parseQuantity(input)).toBeUndefined();
  });
});
