import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';

// CLI errors name what to do next, for API settings that point at nothing usable.
describe('sentinel CLI: errors about where the API is', () => {
  let notSentinel: Server;
  let url: string;
  beforeAll(async () => {
    // Something that is not Sentinel's API (a web UI on the wrong port answers HTML).
    notSentinel = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>not sentinel</title>');
    });
    await new Promise<void>((resolve) => notSentinel.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(notSentinel.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => notSentinel.close(resolve)));

  it('says an answer that is not JSON is not the Sentinel API, and which setting to check', async () => {
    const result = await runCli(['plan', 'get', 'p1'], { env: { SENTINEL_API_URL: url } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      `${url} answered HTTP 200 with text/html, not JSON: it is not the Sentinel API`,
    );
    expect(result.stderr).toContain('SENTINEL_API_URL');
    expect(result.stderr).not.toMatch(/Unexpected token/);
  });

  it('names the setting when the API URL is not a URL', async () => {
    const result = await runCli(['plan', 'get', 'p1'], { env: { SENTINEL_API_URL: 'not-a-url' } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('the API URL "not-a-url" is not a URL; set --api or SENTINEL_API_URL');
  });
});
