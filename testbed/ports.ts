import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Loopback ports for the testbed's services.
 *
 * A port the kernel assigns to `listen(0)` comes from the ephemeral range
 * (`/proc/sys/net/ipv4/ip_local_port_range`, 32768–60999 by default), the same range it
 * takes the source port of every outgoing connection from. Between the moment such a port
 * is released and the moment a service (kube-apiserver, etcd, Temporal) binds it, any
 * connection on the machine can take it, and the service dies with "address already in
 * use". So ports are drawn at random from a range below the ephemeral one, checked by
 * binding them, and claimed across processes for {@link CLAIM_MS} by an exclusive file, so
 * that two test processes starting services together never hand out the same port.
 */

/** First and last port handed out: below the kernel's default ephemeral range. */
export const PORT_RANGE = { first: 20_000, last: 32_000 } as const;

/** How long a claim keeps other processes off a port: long enough for a service to bind it. */
export const CLAIM_MS = 120_000;

const CLAIM_DIR = join(tmpdir(), 'sentinel-port-claims');
const MAX_TRIES = 200;

/** True when `port` can be bound on `host` right now. */
function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Claims `port` for this process unless another claimed it less than {@link CLAIM_MS} ago.
 * The claim is a file created with `wx` (fails when it exists); a stale one is taken over.
 */
function claim(port: number): boolean {
  mkdirSync(CLAIM_DIR, { recursive: true });
  const file = join(CLAIM_DIR, String(port));
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    try {
      if (Date.now() - statSync(file).mtimeMs < CLAIM_MS) return false;
      const now = new Date();
      utimesSync(file, now, now);
      return true;
    } catch {
      return false;
    }
  }
}

const handedOut = new Set<number>();

/**
 * A free loopback port in {@link PORT_RANGE}, bound once to check it and claimed so that no
 * other process of this machine gets it from here for {@link CLAIM_MS}.
 *
 * @throws Error when no free port was found in 200 random tries (the range is exhausted).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const span = PORT_RANGE.last - PORT_RANGE.first + 1;
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const port = PORT_RANGE.first + Math.floor(Math.random() * span);
    if (handedOut.has(port) || !claim(port)) continue;
    if (await canBind(port, host)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(
    `no free loopback port in ${PORT_RANGE.first}-${PORT_RANGE.last} after ${MAX_TRIES} tries on ${host}`,
  );
}

/** `count` distinct free ports (see {@link freePort}). */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) ports.push(await freePort(host));
  return ports;
}
