import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Session, type TokenGrant } from '@minicloud/client';
import { CliError } from './errors';
import type { CliIo } from './io';

/** Identity endpoint used when neither --url nor MINICLOUD_URL is given (the bring-up's default port). */
export const DEFAULT_IDENTITY_URL = '127.0.0.1:5000';

/** What `login` stores in `<config dir>/credentials.json` (mode 0600). Keys are snake_case. */
export interface StoredCredentials {
  /** Identity endpoint, host:port. */
  url: string;
  token: string;
  /** ISO-8601 expiry of `token`. */
  expires_at: string;
  user_id: string;
  user_name: string;
  project_id: string;
  project_name: string;
  roles: string[];
  catalog: { service_type: string; url: string; interface: string; region: string }[];
}

/** Password login parameters (the OS_* equivalents: MINICLOUD_URL/USER/PASSWORD/PROJECT). */
export interface LoginParams {
  url: string;
  user: string;
  password: string;
  /** Project name to scope to; empty: the user's default project. */
  project?: string;
  /** User's domain name; empty: "default". */
  domain?: string;
}

/** `MINICLOUD_CONFIG_DIR`, else `~/.minicloud`. */
export function configDir(io: CliIo): string {
  return io.env.MINICLOUD_CONFIG_DIR || path.join(io.homeDir ?? os.homedir(), '.minicloud');
}

/** Path of the credentials file. */
export function credentialsPath(io: CliIo): string {
  return path.join(configDir(io), 'credentials.json');
}

/** The stored credentials, or undefined when there is no file. Throws CliError on a corrupt file. */
export function readCredentials(io: CliIo): StoredCredentials | undefined {
  let text: string;
  try {
    text = fs.readFileSync(credentialsPath(io), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${credentialsPath(io)}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as StoredCredentials;
  } catch {
    throw new CliError(`corrupt credentials file ${credentialsPath(io)}: run 'minicloud login'`);
  }
}

/** Writes the credentials file with mode 0600 (directory 0700); the token is a secret. */
export function writeCredentials(io: CliIo, creds: StoredCredentials): void {
  const dir = configDir(io);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = credentialsPath(io);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

/** Removes the credentials file; no error when it does not exist. */
export function deleteCredentials(io: CliIo): void {
  fs.rmSync(credentialsPath(io), { force: true });
}

/** The file form of a library grant obtained from identity at `url`. */
export function storedOf(url: string, g: TokenGrant): StoredCredentials {
  return {
    url,
    token: g.token,
    expires_at: g.expiresAt.toISOString(),
    user_id: g.userId,
    user_name: g.userName,
    project_id: g.projectId,
    project_name: g.projectName,
    roles: g.roles,
    catalog: g.catalog.map((e) => ({ service_type: e.serviceType, url: e.url, interface: e.interface, region: e.region })),
  };
}

function grantOfStored(s: StoredCredentials): TokenGrant {
  const expires = Date.parse(s.expires_at);
  return {
    token: s.token,
    expiresAt: new Date(Number.isNaN(expires) ? 0 : expires),
    userId: s.user_id,
    userName: s.user_name,
    projectId: s.project_id,
    projectName: s.project_name,
    domainId: '',
    roles: s.roles ?? [],
    catalog: (s.catalog ?? []).map((e) => ({ serviceType: e.service_type, url: e.url, interface: e.interface, region: e.region })),
  };
}

/**
 * The session of one CLI run (see @minicloud/client Session): the stored token while it is valid;
 * with MINICLOUD_USER and MINICLOUD_PASSWORD set, a password login (stored again) when it is missing
 * or about to expire. Without them a missing or expired token is a CliError telling to log in.
 * `region`: the catalog region whose endpoints the clients use (absent: RegionOne).
 */
export function openSession(io: CliIo, region?: string): Session {
  let stored: StoredCredentials | undefined;
  let unreadable: CliError | undefined;
  try {
    stored = readCredentials(io);
  } catch (e) {
    // `login` must still work over a corrupt file; other commands report it.
    if (!(e instanceof CliError)) throw e;
    unreadable = e;
  }
  const url = io.env.MINICLOUD_URL || stored?.url || DEFAULT_IDENTITY_URL;
  const { MINICLOUD_USER: user, MINICLOUD_PASSWORD: password } = io.env;
  return new Session({
    authUrl: url,
    auth: user && password ? { password: { userName: user, password } } : undefined,
    scope: { projectName: io.env.MINICLOUD_PROJECT || stored?.project_name },
    grant: stored && grantOfStored(stored),
    region,
    connect: io.connect,
    now: io.now,
    onGrant: (g) => writeCredentials(io, storedOf(url, g)),
    noCredentials: (expired) => unreadable ?? new CliError(expired ? "token expired: run 'minicloud login'" : "not logged in: run 'minicloud login'"),
  });
}

/**
 * IdentityService.Authenticate with a password; returns what to store. Errors are the server's typed
 * errors (UNAUTHENTICATED for a bad password), annotated with the identity endpoint.
 */
export async function authenticate(io: CliIo, params: LoginParams): Promise<StoredCredentials> {
  const session = new Session({
    authUrl: params.url,
    auth: { password: { userName: params.user, password: params.password, domainName: params.domain } },
    scope: { projectName: params.project },
    connect: io.connect,
    now: io.now,
  });
  try {
    const g = await session.login();
    return storedOf(params.url, { ...g, userName: g.userName || params.user, projectName: g.projectName || (params.project ?? '') });
  } finally {
    session.close();
  }
}
