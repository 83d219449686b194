import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConditionEvaluationError,
  ConditionSyntaxError,
  evaluateCondition,
  MAX_CONDITION_LENGTH,
  parseCondition,
  UNDETERMINED,
} from './condition.ts';

function syntaxError(source: string): ConditionSyntaxError {
  try {
    parseCondition(source);
  } catch (err) {
    if (err instanceof ConditionSyntaxError) return err;
    throw err;
  }
  throw new Error(`expected ${source} to be rejected`);
}

describe('condition language: evaluation', () => {
  it.each([
    ['result[0] >= 0.95', [0.97], true],
    ['result[0] >= 0.95', [0.95], true],
    ['result[0] >= 0.95', [0.9], false],
    ['result[0] < 0.05 && result[0] >= 0', [0.01], true],
    ['result[0] < 0.05 && result[0] >= 0', [-0.01], false],
    ['len(result) > 0', [], false],
    ['len(result) == 3', [1, 2, 3], true],
    ['isNaN(result[0])', [NaN], true],
    ['isNaN(result[0])', [1], false],
    ['isInf(result[0])', [-Infinity], true],
    ['result[1] > result[0]', [1, 2], true],
    ['!(result[0] > 1)', [0.5], true],
    ['not isNaN(result[0]) and result[0] <= 1 or false', [1], true],
    ['result[0] * 100 < 5', [0.04], true],
    ['-result[0] == 2', [-2], true],
    ['1 + 2 * 3 == 7', [], true],
    ['(1 + 2) * 3 == 9', [], true],
    ['10 / 4 - 2 == 0.5', [], true],
    ['abs(result[0] - 1) < 0.1', [1.05], true],
    ['min(result) >= 1 && max(result) <= 3 && sum(result) == 6', [1, 2, 3], true],
    ['1e-3 < 0.01 && .5 == 0.5 && 2. == 2', [], true],
    ['true != false', [], true],
    ['(result[0] > 1) == true', [2], true],
  ] as const)('%s over %j is %s', (source, result, expected) => {
    expect(evaluateCondition(source, result)).toBe(expected);
  });

  it('makes every comparison with NaN or ±Inf undetermined, never true or false', () => {
    for (const value of [NaN, Infinity, -Infinity])
      for (const op of ['<', '<=', '>', '>=', '==', '!='])
        expect(evaluateCondition(`result[0] ${op} 0`, [value])).toBe(UNDETERMINED);
    // 0/0 computed from finite values is just as undetermined.
    expect(evaluateCondition('result[0] / result[1] < 0.05', [0, 0])).toBe(UNDETERMINED);
    expect(evaluateCondition('abs(result[0]) < 1', [NaN])).toBe(UNDETERMINED);
  });

  it('reads an empty result as missing: undetermined unless len() or isNaN() tests for it', () => {
    for (const source of ['result[0] >= 0.05', 'sum(result) > 0', 'min(result) < 1', 'max(result) < 1'])
      expect(evaluateCondition(source, [])).toBe(UNDETERMINED);
    expect(evaluateCondition('len(result) > 0 && result[0] < 1', [])).toBe(false);
    expect(evaluateCondition('len(result) == 0 || result[0] < 1', [])).toBe(true);
    expect(evaluateCondition('isNaN(result[0])', [])).toBe(true);
  });

  it.each([
    // An explicit test decides; Kleene's logic lets the other side of && / || decide too.
    ['isNaN(result[0]) || result[0] < 0.05', [NaN], true],
    ['result[0] < 0.05 || isNaN(result[0])', [NaN], true],
    ['!isNaN(result[0]) && result[0] >= 0.05', [NaN], false],
    ['result[0] >= 0.05 && false', [NaN], false],
    ['result[0] >= 0.05 || false', [NaN], UNDETERMINED],
    ['result[0] >= 0.05 && true', [NaN], UNDETERMINED],
    ['!(result[0] >= 0.05)', [NaN], UNDETERMINED],
    ['(result[0] > 1) == true', [NaN], UNDETERMINED],
    ['isInf(result[0]) || result[0] < 1', [Infinity], true],
    ['result[0] < 0.05 && result[1] < 0.05', [0.01, NaN], UNDETERMINED],
    ['result[0] < 0.05 && result[1] < 0.05', [0.2, NaN], false],
  ] as const)('%s over %j is %s', (source, result, expected) => {
    expect(evaluateCondition(source, result)).toBe(expected);
  });

  it('short-circuits && and ||, so a guard protects an index', () => {
    expect(evaluateCondition('len(result) > 1 && result[1] < 1', [0])).toBe(false);
    expect(evaluateCondition('len(result) < 2 || result[1] < 1', [0])).toBe(true);
  });

  it('reports an out-of-range index of a non-empty result with its column and the result size', () => {
    expect(() => evaluateCondition('len(result) >= 0 && result[2] > 0', [1])).toThrow(
      new ConditionEvaluationError(20, 'result[2] is out of range: the query returned 1 value'),
    );
    const err = (() => {
      try {
        evaluateCondition('result[1] > 0', [1]);
      } catch (e) {
        return e as ConditionEvaluationError;
      }
    })();
    expect(err).toBeInstanceOf(ConditionEvaluationError);
    expect(err?.code).toBe('SENTINEL_ERR_ANALYSIS_INPUT');
    expect(err?.message).toBe('column 1: result[1] is out of range: the query returned 1 value');
  });

  it('rejects fractional and negative indexes at evaluation', () => {
    expect(() => evaluateCondition('result[0.5] > 0', [1])).toThrow(/not a whole number/);
    expect(() => evaluateCondition('result[-1] > 0', [1])).toThrow(/not a whole number/);
  });

  it('never throws anything but its own errors on arbitrary text (no eval)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.array(fc.double()), (source, result) => {
        try {
          const condition = parseCondition(source);
          expect([true, false, UNDETERMINED]).toContain(evaluateCondition(condition, result));
        } catch (err) {
          expect(err instanceof ConditionSyntaxError || err instanceof ConditionEvaluationError).toBe(true);
        }
      }),
    );
  });

  it('agrees with a direct computation for comparisons of a value against a threshold', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
        (value, threshold) => {
          const text = String(threshold);
          // Thresholds are written as a JS number literal; skip forms the grammar does not have.
          fc.pre(/^-?(\d+(\.\d*)?)(e[+-]?\d+)?$/.test(text));
          expect(evaluateCondition(`result[0] >= ${text}`, [value])).toBe(value >= threshold);
          expect(evaluateCondition(`result[0] < ${text} && result[0] != ${text}`, [value])).toBe(
            value < threshold,
          );
        },
      ),
    );
  });
});

describe('condition language: parse errors', () => {
  it.each([
    ['result[0 >= 1', 13, ["']'"], 'end of input'],
    ['(result[0] > 1', 14, ["')'"], 'end of input'],
    ['result[0] >=', 12, ['a number', "'result'"], 'end of input'],
    ['result[0] = 1', 10, ["'=='"], "'='"],
    ['result[0] > 1 & true', 14, ["'&&'"], "'&'"],
    ['result[0] > 1 | true', 14, ["'||'"], "'|'"],
    ['1 < 2 < 3', 6, ["'&&'", "'||'"], "'<'"],
    ['result[0] > 1)', 13, ['end of input'], "')'"],
    ['foo > 1', 0, ["'result'", "'len(…)'"], "unknown name 'foo'"],
    ['len > 1', 4, ["'('"], "'>'"],
    ['len() > 1', 4, ['a number'], "')'"],
    ['len(result, result) > 1', 10, ["')'"], "','"],
    ['result[0] > 1 $', 14, ['a number', 'a name'], "'$'"],
    ['2x > 1', 1, ['an operator'], "'x'"],
    ['', 0, ['a number'], 'end of input'],
  ] as const)('%j fails at offset %d', (source, position, expected, found) => {
    const err = syntaxError(source);
    expect(err.position).toBe(position);
    expect(err.column).toBe(position + 1);
    expect(err.expected).toEqual(expect.arrayContaining([...expected]));
    expect(err.found).toBe(found);
    expect(err.code).toBe('SENTINEL_ERR_ANALYSIS_INVALID');
    expect(err.message).toMatch(new RegExp(`^column ${position + 1}: expected .*, found `));
  });

  it('names the opening bracket a missing one should close', () => {
    expect(syntaxError('result[0 >= 1').message).toBe(
      "column 14: expected ']', found end of input (to close '[' at column 7)",
    );
    expect(syntaxError('(result[0] > 1').message).toBe(
      "column 15: expected ')', found end of input (to close '(' at column 1)",
    );
  });

  it.each([
    ['result >= 0.95', 0, 'a number', "a list (the query's result)"],
    ['len(result)', 0, 'true/false', 'a number'],
    ['result[0]', 0, 'true/false', 'a number'],
    ['!result[0]', 1, 'true/false', 'a number'],
    ['result[0] > 1 && 2', 17, 'true/false', 'a number'],
    ['len(result[0]) > 1', 4, "a list (the query's result)", 'a number'],
    ['isNaN(result) || true', 6, 'a number', "a list (the query's result)"],
    ['result[true] > 1', 7, 'a number', 'true/false'],
    ['true > false', 0, 'a number', 'true/false'],
    ['result == result', 0, 'a number', "a list (the query's result)"],
    ['1 == true', 5, 'a number', 'true/false'],
  ] as const)('type error in %j at offset %d', (source, position, expected, found) => {
    const err = syntaxError(source);
    expect(err.position).toBe(position);
    expect(err.expected).toEqual([expected]);
    expect(err.found).toBe(found);
  });

  it('explains the common mistake of comparing the whole result', () => {
    expect(syntaxError('result >= 0.95').message).toContain(
      'write result[0] for the first value, or len(result)',
    );
  });

  it('refuses conditions longer than the limit', () => {
    const long = `${'1 + '.repeat(MAX_CONDITION_LENGTH)}1 > 0`;
    expect(syntaxError(long).expected).toEqual([`at most ${MAX_CONDITION_LENGTH} characters`]);
  });
});
