import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { freePorts, PORT_RANGE } from '../../testbed/ports.ts';

// The testbed's ports come from below the kernel's ephemeral range, so an outgoing
// connection's source port can never take one between the check and the service's bind
// (kube-apiserver died with "address already in use" when they came from listen(0)).
it('hands out distinct, bindable ports below the ephemeral range, each claimed for other processes', async () => {
  const ports = await freePorts(40);
  expect(new Set(ports).size).toBe(40);
  for (const port of ports) {
    expect(port).toBeGreaterThanOrEqual(PORT_RANGE.first);
    expect(port).toBeLessThanOrEqual(PORT_RANGE.last);
    expect(existsSync(join(tmpdir(), 'sentinel-port-claims', String(port)))).toBe(true);
  }
  // Each is free for the service that asked for it.
  for (const port of ports.slice(0, 5)) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  }
});
