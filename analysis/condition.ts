// The condition language of analysis metrics: `result[0] >= 0.95`, `len(result) > 0 &&
// result[0] < 0.05`, `isNaN(result[0])`. A small recursive-descent parser and a tree-walking
// evaluator; nothing is ever handed to eval or new Function, so a template cannot run code.
// Types are checked when a condition is parsed, which is when a template is validated, so a
// typo fails the template rather than the tenth measurement of a rollout.
//
// Evaluation is three-valued. Prometheus answers NaN for 0/0 (an error ratio with no traffic),
// ±Inf for x/0, and an empty vector when no series matches: none of them is a measurement of
// the canary. A comparison with such a value is therefore neither true nor false but
// `undetermined`, and undetermined flows through `!`, `&&` and `||` as in Kleene's logic
// (`undetermined || true` is true, `undetermined && false` is false, anything else with it
// stays undetermined). Only an explicit test decides such a value: `isNaN`, `isInf` and
// `len(result)`. So `result[0] >= 0.05` over NaN is undetermined, while
// `isNaN(result[0]) || result[0] < 0.05` over NaN is true.

import { AnalysisError, AnalysisErrorCode } from './errors.ts';

/** Functions a condition may call; each takes exactly one argument. */
export const CONDITION_FUNCTIONS = ['len', 'isNaN', 'isInf', 'abs', 'min', 'max', 'sum'] as const;
export type ConditionFunction = (typeof CONDITION_FUNCTIONS)[number];

/** The longest condition accepted; a condition is a one-liner, not a program. */
export const MAX_CONDITION_LENGTH = 1000;

/**
 * The value of a condition that compared a NaN, an infinity or a missing value (an index or
 * `min`/`max`/`sum` of an empty result) without testing for it first.
 */
export const UNDETERMINED = 'undetermined';

/** What a condition comes to over a result: it holds, it does not, or it cannot say. */
export type ConditionResult = boolean | typeof UNDETERMINED;

type ValueType = 'number' | 'boolean' | 'list';
type Value = number | ConditionResult | readonly number[];

const FUNCTION_SIGNATURES: Readonly<Record<ConditionFunction, { arg: ValueType; returns: ValueType }>> = {
  len: { arg: 'list', returns: 'number' },
  isNaN: { arg: 'number', returns: 'boolean' },
  isInf: { arg: 'number', returns: 'boolean' },
  abs: { arg: 'number', returns: 'number' },
  min: { arg: 'list', returns: 'number' },
  max: { arg: 'list', returns: 'number' },
  sum: { arg: 'list', returns: 'number' },
};

type ComparisonOperator = '<' | '<=' | '>' | '>=' | '==' | '!=';
type ArithmeticOperator = '+' | '-' | '*' | '/';

/** A node of a parsed condition; `at` is its 0-based offset in the source, for messages. */
type ConditionNode =
  | { kind: 'number'; value: number; at: number }
  | { kind: 'boolean'; value: boolean; at: number }
  | { kind: 'result'; at: number }
  | { kind: 'index'; list: ConditionNode; index: ConditionNode; at: number }
  | { kind: 'call'; fn: ConditionFunction; arg: ConditionNode; at: number }
  | { kind: 'not'; operand: ConditionNode; at: number }
  | { kind: 'negate'; operand: ConditionNode; at: number }
  | { kind: 'logical'; op: '&&' | '||'; left: ConditionNode; right: ConditionNode; at: number }
  | { kind: 'compare'; op: ComparisonOperator; left: ConditionNode; right: ConditionNode; at: number }
  | { kind: 'arithmetic'; op: ArithmeticOperator; left: ConditionNode; right: ConditionNode; at: number };

/** A parsed, type-checked condition. Build one with {@link parseCondition}. */
export interface Condition {
  readonly source: string;
  /** @internal the syntax tree the evaluator walks. */
  readonly root: ConditionNode;
}

/**
 * A condition is not valid: a syntax error, an unknown name or a type mismatch. `position`
 * is the 0-based offset of the offending token, `expected` what would have been accepted
 * there and `found` what was there instead.
 */
export class ConditionSyntaxError extends AnalysisError {
  override readonly name = 'ConditionSyntaxError';
  readonly code = AnalysisErrorCode.invalid;
  readonly source: string;
  readonly position: number;
  /** 1-based column of `position`, as editors count. */
  readonly column: number;
  readonly expected: readonly string[];
  readonly found: string;

  constructor(source: string, position: number, expected: readonly string[], found: string, hint?: string) {
    super(
      `column ${position + 1}: expected ${listAlternatives(expected)}, found ${found}${hint ? ` (${hint})` : ''}`,
    );
    this.source = source;
    this.position = position;
    this.column = position + 1;
    this.expected = expected;
    this.found = found;
  }
}

/**
 * A valid condition could not be evaluated over this result, e.g. `result[0]` of an empty
 * result. An analysis turns it into an `Error` measurement.
 */
export class ConditionEvaluationError extends AnalysisError {
  override readonly name = 'ConditionEvaluationError';
  readonly code = AnalysisErrorCode.input;
  readonly position: number;

  constructor(position: number, message: string) {
    super(`column ${position + 1}: ${message}`);
    this.position = position;
  }
}

function listAlternatives(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? 'nothing';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

// ---------------------------------------------------------------------------------------
// Lexer

type Token =
  | { kind: 'number'; value: number; text: string; at: number }
  | { kind: 'name'; text: string; at: number }
  | { kind: 'symbol'; text: string; at: number }
  | { kind: 'end'; text: ''; at: number };

const SYMBOLS = [
  '&&',
  '||',
  '==',
  '!=',
  '<=',
  '>=',
  '<',
  '>',
  '!',
  '+',
  '-',
  '*',
  '/',
  '(',
  ')',
  '[',
  ']',
  ',',
];
// Word forms of the logical operators, as Argo's expression language also accepts them.
const WORD_OPERATORS: Readonly<Record<string, string>> = { and: '&&', or: '||', not: '!' };
const NUMBER_PATTERN = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*/;

function describeToken(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'end of input';
    case 'number':
      return `number ${token.text}`;
    case 'name':
      return `'${token.text}'`;
    case 'symbol':
      return `'${token.text}'`;
  }
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < source.length) {
    const rest = source.slice(at);
    const space = /^\s+/.exec(rest);
    if (space) {
      at += space[0].length;
      continue;
    }
    const number = NUMBER_PATTERN.exec(rest);
    if (number) {
      if (NAME_PATTERN.test(rest.slice(number[0].length)))
        throw new ConditionSyntaxError(
          source,
          at + number[0].length,
          ['an operator', "')'", 'end of input'],
          `'${rest.slice(number[0].length, number[0].length + 1)}'`,
          'a name cannot start right after a number',
        );
      tokens.push({ kind: 'number', value: Number(number[0]), text: number[0], at });
      at += number[0].length;
      continue;
    }
    const name = NAME_PATTERN.exec(rest);
    if (name) {
      const word = WORD_OPERATORS[name[0]];
      tokens.push(word ? { kind: 'symbol', text: word, at } : { kind: 'name', text: name[0], at });
      at += name[0].length;
      continue;
    }
    const symbol = SYMBOLS.find((s) => rest.startsWith(s));
    if (symbol) {
      tokens.push({ kind: 'symbol', text: symbol, at });
      at += symbol.length;
      continue;
    }
    const char = rest[0]!;
    const suggestion = char === '&' ? ["'&&'"] : char === '|' ? ["'||'"] : char === '=' ? ["'=='"] : [];
    throw new ConditionSyntaxError(
      source,
      at,
      suggestion.length > 0 ? suggestion : ['a number', 'a name', 'an operator', 'a parenthesis'],
      `'${char}'`,
    );
  }
  tokens.push({ kind: 'end', text: '', at: source.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------
// Parser: precedence from loosest to tightest is ||, &&, comparison (not chainable),
// + -, * /, unary ! and -, then postfix [index] and primaries.

const OPERAND = ['a number', "'result'", "'true'", "'false'", 'a function call', "'!'", "'-'", "'('"];
const COMPARISONS = new Set<string>(['<', '<=', '>', '>=', '==', '!=']);

class Parser {
  private index = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  parse(): ConditionNode {
    const node = this.parseOr();
    const token = this.peek();
    if (token.kind !== 'end')
      throw new ConditionSyntaxError(
        this.source,
        token.at,
        ["'&&'", "'||'", 'a comparison', 'an arithmetic operator', 'end of input'],
        describeToken(token),
      );
    return node;
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const token = this.tokens[this.index]!;
    if (token.kind !== 'end') this.index += 1;
    return token;
  }

  private isSymbol(...texts: string[]): boolean {
    const token = this.peek();
    return token.kind === 'symbol' && texts.includes(token.text);
  }

  private expectSymbol(text: string, context?: string): Token {
    const token = this.peek();
    if (token.kind === 'symbol' && token.text === text) return this.next();
    throw new ConditionSyntaxError(this.source, token.at, [`'${text}'`], describeToken(token), context);
  }

  private parseOr(): ConditionNode {
    let left = this.parseAnd();
    while (this.isSymbol('||')) {
      const op = this.next();
      left = { kind: 'logical', op: '||', left, right: this.parseAnd(), at: op.at };
    }
    return left;
  }

  private parseAnd(): ConditionNode {
    let left = this.parseComparison();
    while (this.isSymbol('&&')) {
      const op = this.next();
      left = { kind: 'logical', op: '&&', left, right: this.parseComparison(), at: op.at };
    }
    return left;
  }

  private parseComparison(): ConditionNode {
    const left = this.parseAdditive();
    const token = this.peek();
    if (token.kind !== 'symbol' || !COMPARISONS.has(token.text)) return left;
    this.next();
    const right = this.parseAdditive();
    const after = this.peek();
    if (after.kind === 'symbol' && COMPARISONS.has(after.text))
      throw new ConditionSyntaxError(
        this.source,
        after.at,
        ["'&&'", "'||'", "')'", 'end of input'],
        describeToken(after),
        'comparisons cannot be chained; join them with &&',
      );
    return { kind: 'compare', op: token.text as ComparisonOperator, left, right, at: token.at };
  }

  private parseAdditive(): ConditionNode {
    let left = this.parseMultiplicative();
    while (this.isSymbol('+', '-')) {
      const op = this.next();
      const right = this.parseMultiplicative();
      left = { kind: 'arithmetic', op: op.text as ArithmeticOperator, left, right, at: op.at };
    }
    return left;
  }

  private parseMultiplicative(): ConditionNode {
    let left = this.parseUnary();
    while (this.isSymbol('*', '/')) {
      const op = this.next();
      const right = this.parseUnary();
      left = { kind: 'arithmetic', op: op.text as ArithmeticOperator, left, right, at: op.at };
    }
    return left;
  }

  private parseUnary(): ConditionNode {
    if (this.isSymbol('!')) {
      const op = this.next();
      return { kind: 'not', operand: this.parseUnary(), at: op.at };
    }
    if (this.isSymbol('-')) {
      const op = this.next();
      return { kind: 'negate', operand: this.parseUnary(), at: op.at };
    }
    return this.parsePostfix();
  }

  private parsePostfix(): ConditionNode {
    let node = this.parsePrimary();
    while (this.isSymbol('[')) {
      const open = this.next();
      const index = this.parseOr();
      this.expectSymbol(']', `to close '[' at column ${open.at + 1}`);
      node = { kind: 'index', list: node, index, at: node.at };
    }
    return node;
  }

  private parsePrimary(): ConditionNode {
    const token = this.peek();
    if (token.kind === 'number') {
      this.next();
      return { kind: 'number', value: token.value, at: token.at };
    }
    if (token.kind === 'symbol' && token.text === '(') {
      this.next();
      const inner = this.parseOr();
      this.expectSymbol(')', `to close '(' at column ${token.at + 1}`);
      return inner;
    }
    if (token.kind === 'name') {
      this.next();
      if (token.text === 'result') return { kind: 'result', at: token.at };
      if (token.text === 'true' || token.text === 'false')
        return { kind: 'boolean', value: token.text === 'true', at: token.at };
      if ((CONDITION_FUNCTIONS as readonly string[]).includes(token.text)) {
        this.expectSymbol('(', `'${token.text}' is a function`);
        if (this.isSymbol(')'))
          throw new ConditionSyntaxError(
            this.source,
            this.peek().at,
            OPERAND,
            "')'",
            `'${token.text}' takes one argument`,
          );
        const arg = this.parseOr();
        this.expectSymbol(')', `'${token.text}' takes one argument`);
        return { kind: 'call', fn: token.text as ConditionFunction, arg, at: token.at };
      }
      throw new ConditionSyntaxError(
        this.source,
        token.at,
        ["'result'", "'true'", "'false'", ...CONDITION_FUNCTIONS.map((f) => `'${f}(…)'`)],
        `unknown name '${token.text}'`,
      );
    }
    throw new ConditionSyntaxError(this.source, token.at, OPERAND, describeToken(token));
  }
}

// ---------------------------------------------------------------------------------------
// Type checker

const TYPE_NAMES: Readonly<Record<ValueType, string>> = {
  number: 'a number',
  boolean: 'true/false',
  list: "a list (the query's result)",
};

function typeError(
  source: string,
  node: ConditionNode,
  expected: ValueType,
  found: ValueType,
  hint?: string,
) {
  return new ConditionSyntaxError(
    source,
    node.at,
    [TYPE_NAMES[expected]],
    TYPE_NAMES[found],
    hint ?? (found === 'list' ? 'write result[0] for the first value, or len(result)' : undefined),
  );
}

function checkType(source: string, node: ConditionNode): ValueType {
  const expect = (child: ConditionNode, wanted: ValueType, hint?: string): void => {
    const actual = checkType(source, child);
    if (actual !== wanted) throw typeError(source, child, wanted, actual, hint);
  };
  switch (node.kind) {
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'result':
      return 'list';
    case 'index':
      expect(node.list, 'list', 'only the result can be indexed');
      expect(node.index, 'number');
      return 'number';
    case 'call': {
      const signature = FUNCTION_SIGNATURES[node.fn];
      expect(node.arg, signature.arg, `${node.fn} takes ${TYPE_NAMES[signature.arg]}`);
      return signature.returns;
    }
    case 'not':
      expect(node.operand, 'boolean', "'!' negates true/false");
      return 'boolean';
    case 'negate':
      expect(node.operand, 'number');
      return 'number';
    case 'logical':
      expect(node.left, 'boolean', `'${node.op}' joins true/false values`);
      expect(node.right, 'boolean', `'${node.op}' joins true/false values`);
      return 'boolean';
    case 'arithmetic':
      expect(node.left, 'number');
      expect(node.right, 'number');
      return 'number';
    case 'compare': {
      const left = checkType(source, node.left);
      if (node.op === '==' || node.op === '!=') {
        if (left === 'list') throw typeError(source, node.left, 'number', left);
        expect(node.right, left);
      } else {
        if (left !== 'number') throw typeError(source, node.left, 'number', left);
        expect(node.right, 'number');
      }
      return 'boolean';
    }
  }
}

/**
 * Parses and type-checks a condition. Throws {@link ConditionSyntaxError} naming the column,
 * what was expected there and what was found.
 *
 * @example parseCondition('result[0] < 0.05 && result[0] >= 0')
 */
export function parseCondition(source: string): Condition {
  if (source.length > MAX_CONDITION_LENGTH)
    throw new ConditionSyntaxError(
      source,
      MAX_CONDITION_LENGTH,
      [`at most ${MAX_CONDITION_LENGTH} characters`],
      `${source.length}`,
    );
  const root = new Parser(source, tokenize(source)).parse();
  const type = checkType(source, root);
  if (type !== 'boolean')
    throw typeError(
      source,
      root,
      'boolean',
      type,
      'a condition must be true or false, e.g. result[0] >= 0.95',
    );
  return Object.freeze({ source, root });
}

// ---------------------------------------------------------------------------------------
// Evaluator

function callFunction(node: Extract<ConditionNode, { kind: 'call' }>, arg: Value): Value {
  switch (node.fn) {
    case 'len':
      return (arg as readonly number[]).length;
    case 'isNaN':
      return Number.isNaN(arg);
    case 'isInf':
      return arg === Infinity || arg === -Infinity;
    case 'abs':
      return Math.abs(arg as number);
    case 'sum':
    case 'min':
    case 'max': {
      const list = arg as readonly number[];
      // No data is not zero: the aggregate of an empty result is missing (NaN), which
      // comparisons treat as undetermined and isNaN() detects.
      if (list.length === 0) return NaN;
      if (node.fn === 'sum') return list.reduce((a, b) => a + b, 0);
      return node.fn === 'min' ? Math.min(...list) : Math.max(...list);
    }
  }
}

function arithmetic(op: ArithmeticOperator, left: number, right: number): number {
  switch (op) {
    case '+':
      return left + right;
    case '-':
      return left - right;
    case '*':
      return left * right;
    case '/':
      return left / right;
  }
}

const isUnjudgeable = (value: Value): boolean =>
  value === UNDETERMINED || (typeof value === 'number' && !Number.isFinite(value));

// A NaN, an infinity or an undetermined operand makes the comparison undetermined (IEEE
// would call NaN < 0.05 false and NaN != 0 true, which is how "no traffic" passed a
// failure-only condition); isNaN(), isInf() and len() test for them explicitly.
function compare(op: ComparisonOperator, left: Value, right: Value): ConditionResult {
  if (isUnjudgeable(left) || isUnjudgeable(right)) return UNDETERMINED;
  switch (op) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return (left as number) < (right as number);
    case '<=':
      return (left as number) <= (right as number);
    case '>':
      return (left as number) > (right as number);
    case '>=':
      return (left as number) >= (right as number);
  }
}

function evaluateNode(node: ConditionNode, result: readonly number[]): Value {
  switch (node.kind) {
    case 'number':
    case 'boolean':
      return node.value;
    case 'result':
      return result;
    case 'index': {
      const list = evaluateNode(node.list, result) as readonly number[];
      const index = evaluateNode(node.index, result) as number;
      if (!Number.isInteger(index) || index < 0)
        throw new ConditionEvaluationError(node.at, `index ${index} is not a whole number ≥ 0`);
      // An empty result has no value to read: missing (NaN), not an error; a result that has
      // values but not this one is a query of another shape than the condition expects.
      if (list.length === 0) return NaN;
      if (index >= list.length)
        throw new ConditionEvaluationError(
          node.at,
          `result[${index}] is out of range: the query returned ${list.length} value${list.length === 1 ? '' : 's'}`,
        );
      return list[index]!;
    }
    case 'call':
      return callFunction(node, evaluateNode(node.arg, result));
    case 'not': {
      const operand = evaluateNode(node.operand, result) as ConditionResult;
      return operand === UNDETERMINED ? UNDETERMINED : !operand;
    }
    case 'negate':
      return -(evaluateNode(node.operand, result) as number);
    case 'logical': {
      // Short-circuit, so `len(result) > 0 && result[2] < 1` never indexes a short result.
      // Kleene's logic for undetermined: the other side may still decide.
      const decisive = node.op === '||';
      const left = evaluateNode(node.left, result) as ConditionResult;
      if (left === decisive) return left;
      const right = evaluateNode(node.right, result) as ConditionResult;
      if (right === decisive) return right;
      return left === UNDETERMINED || right === UNDETERMINED ? UNDETERMINED : !decisive;
    }
    case 'arithmetic':
      return arithmetic(
        node.op,
        evaluateNode(node.left, result) as number,
        evaluateNode(node.right, result) as number,
      );
    case 'compare':
      return compare(node.op, evaluateNode(node.left, result), evaluateNode(node.right, result));
  }
}

/**
 * Evaluates a condition over a query result (the values of an instant vector, in series
 * order, or one value for a scalar): `true`, `false`, or {@link UNDETERMINED} when it compared
 * a NaN, an infinity or a value an empty result does not have without testing for it
 * (`isNaN`, `isInf`, `len`). Throws {@link ConditionEvaluationError} when the result does not
 * fit the condition, e.g. `result[2]` of a two-value result.
 *
 * @example evaluateCondition('result[0] >= 0.05', [NaN]) // 'undetermined'
 * @example evaluateCondition('isNaN(result[0]) || result[0] < 0.05', [NaN]) // true
 */
export function evaluateCondition(condition: Condition | string, result: readonly number[]): ConditionResult {
  const parsed = typeof condition === 'string' ? parseCondition(condition) : condition;
  return evaluateNode(parsed.root, result) as ConditionResult;
}
