import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../support/cli.ts';
import { deployServing, startRolloutStack, type RolloutStack } from '../support/rollout-stack.ts';

// The `sentinel rollout` commands against the whole stack: start from YAML, watch live
// progress, promote an indefinite pause, list, and a refused control.
describe('sentinel rollout', () => {
  let stack: RolloutStack;
  let workDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    stack = await startRolloutStack();
    workDir = mkdtempSync(join(tmpdir(), 'sentinel-rollout-cli-'));
    env = { SENTINEL_API_URL: stack.apiUrl };
    await deployServing(stack.registry, { namespace: 'web', name: 'frontend', replicas: 2 });
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('starts a canary from YAML, redraws its progress with get --watch, and promotes a pause', async () => {
    const file = join(workDir, 'canary.yaml');
    writeFileSync(
      file,
      `target: { cluster: local, namespace: web, name: frontend }
template:
  containers:
    - name: server
      image: registry.local/inference:v2
strategy:
  canary:
    steps:
      - setWeight: 50
      - analysis:
          templates: [{ templateName: error-rate }]
          args: [{ name: version, value: canary }]
      - pause: {}
      - setWeight: 100
    analysis:
      templates: [{ templateName: error-rate-background }]
      args: [{ name: version, value: canary }]
      startingStep: 1
analysisTemplates:
  - name: error-rate
    args: [{ name: version }]
    metrics:
      - name: error-rate
        provider:
          prometheus:
            query: sum(rate(http_requests_total{version="{{args.version}}",status="500"}[5s])) / sum(rate(http_requests_total{version="{{args.version}}"}[5s]))
        successCondition: result[0] < 0.05
        failureCondition: result[0] >= 0.2
        interval: 1s
        count: 3
        inconclusiveLimit: 3
  - name: error-rate-background
    args: [{ name: version }]
    metrics:
      - name: error-rate
        provider:
          prometheus:
            query: sum(rate(http_requests_total{version="{{args.version}}",status="500"}[5s])) / sum(rate(http_requests_total{version="{{args.version}}"}[5s]))
        failureCondition: result[0] >= 0.2
        interval: 2s
progressDeadlineSeconds: 60
requestedBy: sre@example.com
reason: ship v2 of the frontend
`,
    );
    const started = await runCli(['rollout', 'start', file], { env });
    expect(started.stderr).toMatch(
      /started rollout local\/web\/frontend \(workflow rollout\/local\/web\/frontend\)/,
    );
    expect(started.code).toBe(0);

    // Waits for states, never moments: the watcher is only known to have drawn a frame once
    // its output shows it, so the pause is promoted after the paused frame is on screen.
    // Frames between two states (the analysis step while it measures) come and go faster
    // than a slow-starting CLI can be sure to see; what they showed is asserted from the
    // paused frame, where the step list and the analyses keep it.
    const watching = spawnCli(['rollout', 'get', 'local/web/frontend', '--watch', '--interval', '250'], {
      env,
    });
    await watching.waitForOutput(/paused \(step\) until promoted/, 120_000);
    const promoted = await runCli(['rollout', 'promote', 'local/web/frontend', '--reason', 'looks good'], {
      env,
    });
    expect(promoted.stdout).toMatch(/accepted: the current pause ends/);

    const watched = await watching.exited;
    if (process.env.SENTINEL_WATCH_CAPTURE) writeFileSync(process.env.SENTINEL_WATCH_CAPTURE, watched.stdout);
    expect(watched.code).toBe(0);
    const frames = watched.stdout.split(/^--- .*$/m).filter((frame) => frame.trim() !== '');
    const paused = frames.find((frame) => /paused \(step\) until promoted/.test(frame))!;
    expect(paused).toMatch(
      /rollout local\/web\/frontend {2}canary {2}Paused {2}step 2: pause until promoted/,
    );
    // The share shown is the real replica ratio (issue 14 item 6), here of 2 stable + 1 canary.
    expect(paused).toMatch(/traffic {2}\[#+\.+\] \d+(\.\d)?% canary \(replica ratio\)/);
    expect(paused).toMatch(/^ {3}\+ {2}1 analysis error-rate/m);
    expect(paused).toMatch(/analysis step-1 \(step 1\): Successful/);
    expect(paused).toMatch(/analysis background \(step 1\): Running/);
    expect(frames.at(-1)).toMatch(/rollout local\/web\/frontend {2}canary {2}Promoted/);
    expect(frames.length).toBeGreaterThanOrEqual(2);

    const listed = await runCli(['rollout', 'list', '--cluster', 'local'], { env });
    expect(listed.stdout).toMatch(/local\/web\/frontend\s+canary\s+Promoted/);

    const late = await runCli(['rollout', 'abort', 'local/web/frontend'], { env });
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/SENTINEL_ERR_CONTROL_REJECTED/);
  });
});
