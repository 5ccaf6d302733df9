/**
 * Test-only: runs the CLI in-process (`main(argv, io)`) against fake service clients, logged in
 * first. Lives under `testing/` so the boundary check treats it as test code; production code
 * never imports it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NotFoundError } from '@minicloud/domain-errors';
import type { CliIo, ConnectFn } from '../io';
import { main } from '../main';

/** A fake service: method name -> answer for the request (a value, a promise, or a throw). */
export type FakeMethods = Record<string, (req: never) => unknown>;

/** A catalog entry as identity's authenticate returns it. */
export interface FakeCatalogEntry {
  serviceType: string;
  url: string;
  interface: string;
  region: string;
}

/** Options of {@link loggedInCli}. */
export interface FakeCliOptions {
  /** Prefix of the temporary MINICLOUD_CONFIG_DIR (e.g. `mc-cli-host-`). */
  dirPrefix: string;
  /**
   * Fake clients by service type, or a function of (type, address) for clients that depend on the
   * endpoint (e.g. replicas). Identity's authenticate defaults to {@link fakeAuthenticate}.
   */
  services: Record<string, FakeMethods> | ((type: string, address: string) => FakeMethods | undefined);
  /** Roles in the token info; default ['admin']. */
  roles?: string[];
  /** The service catalog; default one compute endpoint at 10.0.0.1:5004 in region r1. */
  catalog?: FakeCatalogEntry[];
}

/** A logged-in in-process CLI: `out` collects stdout/stderr (stdout emptied after login); `run` runs one command and resolves to its exit code. */
export interface FakeCli {
  out: { stdout: string; stderr: string };
  io: CliIo;
  run(...argv: string[]): Promise<number>;
}

/** A public catalog entry for `serviceType` at `url` in region r1. */
export const catalogEntry = (serviceType: string, url: string): FakeCatalogEntry => ({ serviceType, url, interface: 'public', region: 'r1' });

/** Identity's authenticate answer: token `tok` for user admin (u1) in project admin (p1), expiring 2030-01-01T01:00Z. */
export const fakeAuthenticate = (roles: string[], catalog: FakeCatalogEntry[]) => () => ({
  token: 'tok',
  info: { userId: 'u1', userName: 'admin', projectId: 'p1', projectName: 'admin', roles, expiresAt: new Date('2030-01-01T01:00:00Z') },
  catalog,
});

/**
 * Builds the io (fixed clock 2030-01-01T00:00Z, instant sleep, env for user admin at 10.0.0.1:5000)
 * over the fake clients, runs `login` (expecting exit 0) and returns the {@link FakeCli}.
 */
export async function loggedInCli(opts: FakeCliOptions): Promise<FakeCli> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), opts.dirPrefix));
  const out = { stdout: '', stderr: '' };
  const authenticate = fakeAuthenticate(opts.roles ?? ['admin'], opts.catalog ?? [catalogEntry('compute', '10.0.0.1:5004')]);
  const services = opts.services;
  const connect = ((type: string, address: string) => {
    const methods: FakeMethods = { ...(type === 'identity' ? { authenticate } : {}), ...(typeof services === 'function' ? services(type, address) : services[type]) };
    const client: Record<string, unknown> = { close: () => undefined };
    for (const [name, fn] of Object.entries(methods)) client[name] = async (req: never) => fn(req);
    return client;
  }) as unknown as ConnectFn;
  const io: CliIo = {
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s) },
    env: { MINICLOUD_CONFIG_DIR: dir, MINICLOUD_URL: '10.0.0.1:5000', MINICLOUD_USER: 'admin', MINICLOUD_PASSWORD: 'admin', MINICLOUD_PROJECT: 'admin' },
    connect,
    now: () => Date.parse('2030-01-01T00:00:00Z'),
    sleep: async () => undefined,
  };
  expect(await main(['login'], io)).toBe(0);
  out.stdout = '';
  return { out, io, run: (...argv: string[]) => main(argv, io) };
}

/**
 * Fake compute GetServer/ListServers over fixed servers: GetServer by id (NOT_FOUND otherwise),
 * ListServers by exact name, as the name-or-id resolution calls them.
 */
export function fakeServerLookup<S extends { id: string; name: string }>(...servers: S[]) {
  return {
    getServer: (req: { serverId: string }) => {
      const server = servers.find((s) => s.id === req.serverId);
      if (!server) throw new NotFoundError('server', req.serverId);
      return { server };
    },
    listServers: (req: { name: string }) => ({ servers: servers.filter((s) => s.name === req.name) }),
  };
}
