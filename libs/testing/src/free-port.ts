import fs from 'node:fs';
import { createServer } from 'node:net';

/**
 * Ports this process has handed out. A caller often chooses several ports before any server binds
 * one (a bring-up, a suite starting Redis and NATS), so a port that is still free may already be
 * promised: without this, two servers could be given the same port and the second would exit with
 * EADDRINUSE.
 */
const handedOut = new Set<number>();

/** Tries before {@link findFreePort} gives up. */
const MAX_TRIES = 64;

/**
 * A TCP port on 127.0.0.1 that can be bound now and was not handed out before by this process,
 * chosen at random below the kernel's ephemeral range ({@link listenPortRange}).
 *
 * Not the OS's choice for port 0: that comes from the ephemeral range, where the outgoing connections
 * every process opens, and the next caller of port 0 in another process (a parallel test worker),
 * can take a port between the moment it is chosen and the moment its server binds it, or while a
 * server is being restarted on it. Choosing at random from ~12,000 ports the OS never assigns makes
 * both unlikely.
 * @returns a port number, 10000 or above and below the ephemeral range
 * @throws Error when 64 tries find none
 */
export async function findFreePort(): Promise<number> {
  const [low, high] = listenPortRange();
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canListen(port)) return port;
  }
  throw new Error(`findFreePort: no free port found in ${low}-${high} after ${MAX_TRIES} tries`);
}

/**
 * Ports to listen on: the 12,000 ports below the kernel's ephemeral range
 * (net.ipv4.ip_local_port_range, 32768-60999 by default), never below 10000.
 */
function listenPortRange(): [number, number] {
  let ephemeralLow = 32768;
  try {
    ephemeralLow = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    /* not Linux: keep the IANA default's lower bound */
  }
  const high = Math.max(ephemeralLow - 1, 12000);
  return [Math.max(10000, high - 12000), high];
}

/** True when 127.0.0.1:port can be bound right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
