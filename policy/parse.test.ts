import { describe, expect, it } from 'vitest';
import { PolicyErrorCode, PolicyValidationError } from './errors.ts';
import { parsePolicyDocument, parsePolicyDocuments } from './parse.ts';
import { PolicyDocumentSchema } from './schema.ts';

function errorOf(fn: () => unknown): PolicyValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PolicyValidationError) return err;
    throw err;
  }
  throw new Error('expected a PolicyValidationError');
}

const quota = `
id: ml-max-replicas
version: 3
description: at most 8 replicas per workload in ml
priority: 100
mode: enforce
selector: { namespaces: [ml] }
rule: { type: quota, scope: workload, maxReplicas: 8 }
`;

describe('parsePolicyDocument', () => {
  it('parses YAML and fills defaults', () => {
    const doc = parsePolicyDocument(quota);
    expect(doc).toEqual({
      id: 'ml-max-replicas',
      version: 3,
      description: 'at most 8 replicas per workload in ml',
      priority: 100,
      mode: 'enforce',
      selector: { namespaces: ['ml'] },
      rule: { type: 'quota', scope: 'workload', maxReplicas: 8, onMissingInput: 'violate' },
    });
  });

  it('parses JSON to the same document', () => {
    const json = JSON.stringify({
      id: 'ml-max-replicas',
      version: 3,
      description: 'at most 8 replicas per workload in ml',
      priority: 100,
      selector: { namespaces: ['ml'] },
      rule: { type: 'quota', scope: 'workload', maxReplicas: 8 },
    });
    expect(parsePolicyDocument(json)).toEqual(parsePolicyDocument(quota));
  });

  it('defaults mode to enforce, priority to 0 and the selector to everything', () => {
    const doc = parsePolicyDocument('{ id: a, version: 1, rule: { type: sla, minAvailable: 1 } }');
    expect(doc).toMatchObject({ mode: 'enforce', priority: 0, selector: {}, description: '' });
  });

  it('is idempotent: a parsed document validates to itself', () => {
    const doc = parsePolicyDocument(quota);
    expect(PolicyDocumentSchema.parse(doc)).toEqual(doc);
  });

  it('names the field path, the reason and the line', () => {
    const err = errorOf(() => parsePolicyDocument(quota.replace('maxReplicas: 8', 'maxReplicas: "8"')));
    expect(err.code).toBe(PolicyErrorCode.invalid);
    expect(err.code).toBe('SENTINEL_ERR_POLICY_INVALID');
    expect(err.message).toBe('rule.maxReplicas: expected number, received string (line 8)');
    expect(err.issues).toEqual([
      { path: 'rule.maxReplicas', message: 'expected number, received string', line: 8 },
    ]);
  });

  it('reports every problem at once', () => {
    const err = errorOf(() =>
      parsePolicyDocument(`
id: Bad_Id
version: 0
mode: block
selector: { verbs: [delete], workloadSelector: { matchLabels: { "app.kubernetes.io/name": 5 } } }
rule: { type: costCeiling, maxHourlyCost: -1, extra: true }
`),
    );
    const byPath = Object.fromEntries(err.issues.map((i) => [i.path, i.message]));
    expect(byPath).toMatchObject({
      id: expect.stringContaining('lowercase') as string,
      version: 'must be at least 1, received 0',
      mode: 'expected one of "enforce" | "warn" | "dryrun", received "block"',
      'selector.verbs[0]': expect.stringContaining('received "delete"') as string,
      'selector.workloadSelector.matchLabels["app.kubernetes.io/name"]': 'expected string, received number',
      'rule.maxHourlyCost': 'must be at least 0, received -1',
      rule: 'unknown field "extra"',
    });
  });

  it('names the allowed rule types', () => {
    expect(errorOf(() => parsePolicyDocument('{id: a, version: 1, rule: {type: cost}}')).message).toBe(
      'rule.type: expected one of "costCeiling" | "quota" | "sla" | "slo" | "rateLimit" | "freezeWindow" | "budget" | "exception", received "cost" (line 1)',
    );
  });

  it('says which fields are required', () => {
    expect(
      errorOf(() => parsePolicyDocument('{id: a, rule: {type: budget}}')).issues.map(
        (i) => `${i.path}: ${i.message}`,
      ),
    ).toEqual([
      'version: is required (expected number)',
      'rule.monthlyBudget: is required (expected number)',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    const err = errorOf(() => parsePolicyDocument('id: a\nversion: 1\nrule: { type: sla\n'));
    expect(err.code).toBe('SENTINEL_ERR_POLICY_INVALID');
    expect(err.message).toMatch(/^invalid YAML\/JSON: .+ \(line \d\)$/);
  });

  it('rejects duplicate keys, empty text and several documents', () => {
    expect(errorOf(() => parsePolicyDocument('id: a\nid: b\n')).message).toMatch(/invalid YAML/);
    expect(errorOf(() => parsePolicyDocument('')).message).toBe('expected a policy document, found none');
    expect(errorOf(() => parsePolicyDocument(`${quota}\n---\n${quota}`)).message).toMatch(
      /found 2.*parsePolicyDocuments/,
    );
  });

  it('rejects a non-object document', () => {
    expect(errorOf(() => parsePolicyDocument('42')).message).toBe(
      'expected object, received number (line 1)',
    );
  });
});

describe('parsePolicyDocuments', () => {
  const sla = '{ id: keep-two, version: 1, rule: { type: sla, minAvailable: 2 } }';

  it('reads --- separated documents and top-level lists', () => {
    const docs = parsePolicyDocuments(
      `${quota}\n---\n${sla}\n---\n- { id: x, version: 1, rule: { type: sla, minAvailable: "50%" } }\n`,
    );
    expect(docs.map((d) => d.id)).toEqual(['ml-max-replicas', 'keep-two', 'x']);
  });

  it('returns [] for empty text and skips empty documents', () => {
    expect(parsePolicyDocuments('')).toEqual([]);
    expect(parsePolicyDocuments(`---\n${sla}\n---\n`)).toHaveLength(1);
  });

  it('numbers the document of each issue', () => {
    const err = errorOf(() =>
      parsePolicyDocuments(`${sla}\n---\nid: b\nversion: 1\nrule: { type: sla, minAvailable: "x" }\n`),
    );
    expect(err.issues).toEqual([
      {
        document: 2,
        path: 'rule.minAvailable',
        message: expect.stringContaining('percentage') as string,
        line: 5,
      },
    ]);
    expect(err.message).toMatch(/^document 2: rule\.minAvailable: /);
  });

  it('rejects duplicate ids', () => {
    expect(errorOf(() => parsePolicyDocuments(`${sla}\n---\n${sla}`)).message).toMatch(
      /duplicate policy id "keep-two"/,
    );
  });
});
