import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toolsDir } from '../../testbed/tools.ts';

/** Pinned schemathesis (PyPI); keep in step with scripts/bootstrap.sh. */
export const SCHEMATHESIS_VERSION = '4.32.5';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The schemathesis CLI from the machine-wide tool cache, installed on first use by
 * `scripts/bootstrap.sh schemathesis` (a Python venv with the pinned version).
 */
export function schemathesisBinary(): string {
  const dir = join(toolsDir(), `schemathesis-${SCHEMATHESIS_VERSION}`);
  const binary = join(dir, 'bin', 'schemathesis');
  if (existsSync(join(dir, '.complete'))) return binary;
  execFileSync('bash', [join(repoRoot, 'scripts', 'bootstrap.sh'), 'schemathesis'], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (!existsSync(binary))
    throw new Error(`scripts/bootstrap.sh schemathesis finished but ${binary} is missing`);
  return binary;
}

/** Exit code and output of one `schemathesis run`. */
export interface SchemathesisResult {
  code: number;
  output: string;
}

/** Runs `schemathesis run <args>` with test/integration/schemathesis.toml, to its end. */
export function runSchemathesis(args: string[], timeoutMs: number): Promise<SchemathesisResult> {
  const binary = schemathesisBinary();
  // Its cache and reports go to a folder of the run's own, not into the clone.
  const workDir = mkdtempSync(join(tmpdir(), 'sentinel-schemathesis-'));
  return new Promise<SchemathesisResult>((resolve) => {
    execFile(
      binary,
      ['--config-file', join(repoRoot, 'test', 'integration', 'schemathesis.toml'), 'run', ...args],
      {
        cwd: workDir,
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        // No colour codes, no prompt, no telemetry: a plain report in the test output.
        env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false', PYTHONUNBUFFERED: '1' },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  }).finally(() => rmSync(workDir, { recursive: true, force: true }));
}
