import { timingSafeEqual } from 'node:crypto';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { Server, utils as sshUtils, type AuthContext, type Connection, type ParsedKey, type ServerChannel } from 'ssh2';
import { DEFAULT_USER, GUEST_SSHD_START_UPTIME_MS, runGuestCommand, type GuestSystem, type ShellResult } from '@minicloud/domain-guest';
import type { Logger } from '@minicloud/platform-logging';
import type { GuestView } from './guest-consoles';

/**
 * What the SSH servers need of the host: the guest behind a port (a running VM on this host), and
 * its state. Implemented by the wiring over SimulatedHost + GuestConsoles.
 */
export interface GuestSshHost {
  /** The running VM whose port this is, with its guest's state; undefined when none runs here. */
  guestOfPort(portId: string): { instanceId: string; view: GuestView; cpuMhz: number; cpuUtilizationRatio: number; disks: readonly { device: string; sizeGb: number }[] } | undefined;
  /** The guest's sshd host keys (made on first use, kept with the guest); undefined when the guest is gone. */
  hostKeys(instanceId: string): readonly string[] | undefined;
  /** The clock's now (ms). */
  nowMs(): number;
  /**
   * Whether port `portId`'s security groups let a new TCP flow from `clientIp` to guest port
   * `dstPort` in (Neutron applies them to floating-IP traffic after the DNAT). Absent: every
   * connection is let in (tests without a network service). A failure to decide is a refusal.
   */
  ingressAllowed?(portId: string, clientIp: string, dstPort: number): Promise<boolean>;
}

/** A floating IP served on this host (network.v1.HostFloatingIp). */
export interface ServedFloatingIp {
  readonly floatingIpAddress: string;
  readonly portId: string;
  readonly fixedIpAddress: string;
}

/** Limits of one guest's sshd; the defaults are OpenSSH's (sshd_config(5)). */
export interface GuestSshLimits {
  /** Concurrent connections per guest (MaxStartups' first figure, 10). */
  maxConnections: number;
  /** Open sessions per connection (MaxSessions, 10). */
  maxSessions: number;
  /** Failed authentication attempts per connection (MaxAuthTries, 6). */
  maxAuthTries: number;
  /** Time to authenticate before the connection is dropped (LoginGraceTime, 120 s). */
  loginGraceMs: number;
  /** Longest line an interactive shell buffers (bytes). */
  maxLineBytes: number;
}

export const DEFAULT_GUEST_SSH_LIMITS: GuestSshLimits = { maxConnections: 10, maxSessions: 10, maxAuthTries: 6, loginGraceMs: 120_000, maxLineBytes: 64 * 1024 };


/** The version string Ubuntu 22.04's sshd announces (RFC 4253 section 4.2; ssh2 prepends "SSH-2.0-"). */
export const GUEST_SSHD_IDENT = 'OpenSSH_8.9p1 Ubuntu-3ubuntu0.6';

/** What cloud-init's disable_root puts before root's keys: a login as root prints it and exits 142. */
function rootRefusal(user: string): string {
  return `Please login as the user "${user}" rather than the user "root".\n`;
}

interface Listener {
  readonly address: string;
  readonly instanceId: string;
  readonly portId: string;
  /** The boot this listener belongs to (GuestView.bootedAtMs): a reboot closes it. */
  readonly bootedAtMs: number;
  /** The TCP listener: each connection passes the security groups before the sshd sees it. */
  tcp?: TcpServer;
  readonly clients: Set<Connection>;
  closed: boolean;
}

/**
 * The sshd of each running guest with a floating IP, served on this host as a DVR compute node serves
 * the floating IP's NAT: a listener on `<floating IP>:<port>` (port 22 by default) per guest. Only
 * public-key authentication is offered (the Ubuntu cloud image's `PasswordAuthentication no`), against
 * the keys cloud-init installed for each user (the key pair's key for the default user `ubuntu`,
 * cloud-config's for the users it made); root's key login is refused as cloud-init's disable_root
 * does. A session runs commands in the guest's simulated shell (libs/domain/guest guest-shell).
 *
 * `update` reconciles the listeners with the floating IPs of this host's ports and its running VMs:
 * a VM that stops, leaves, reboots or is deleted, or a floating IP that is disassociated, closes its
 * listener and drops its connections. A guest's listener opens only once its uptime reaches
 * `sshdStartUptimeMs` (GUEST_SSHD_START_UPTIME_MS by default): before that its port refuses.
 * An address the machine does not have (the external network is not
 * routed here) is logged once and skipped.
 */
export class GuestSshServers {
  private readonly listeners = new Map<string, Listener>();
  /** Addresses whose listener is closing: reopened only once the socket is released. */
  private readonly closing = new Map<string, Promise<void>>();
  private fips: readonly ServedFloatingIp[] = [];
  private readonly unreachable = new Set<string>();
  private retryTimer?: NodeJS.Timeout;
  /** The next reconcile for a guest whose sshd has not started yet, and when it is due (clock ms). */
  private startTimer?: { timer: NodeJS.Timeout; atMs: number };
  private stopped = false;
  private readonly limits: GuestSshLimits;

  constructor(
    private readonly d: {
      hostId: string;
      host: GuestSshHost;
      logger: Logger;
      /** TCP port the guests' sshd listen on (22; 0 picks a free one per listener, for tests). */
      port: number;
      limits?: Partial<GuestSshLimits>;
      /** Guest uptime (ms) before its sshd listens; GUEST_SSHD_START_UPTIME_MS by default. */
      sshdStartUptimeMs?: number;
    },
  ) {
    this.limits = { ...DEFAULT_GUEST_SSH_LIMITS, ...d.limits };
  }

  /** Sets the floating IPs this host serves (from the network service's tables) and reconciles. */
  setFloatingIps(fips: readonly ServedFloatingIp[]): void {
    this.fips = fips;
    this.reconcile();
  }

  /** The TCP address a guest's sshd answers at, or undefined when it has no listener (tests, diagnostics). */
  addressOf(instanceId: string): { address: string; port: number } | undefined {
    for (const l of this.listeners.values()) {
      const a = l.tcp?.address();
      if (l.instanceId === instanceId && !l.closed && a && typeof a === 'object') return { address: l.address, port: a.port };
    }
    return undefined;
  }

  /** Opens listeners for running guests with a floating IP, closes the others (call on any VM or floating IP change). */
  reconcile(): void {
    const want = new Map<string, { instanceId: string; portId: string; bootedAtMs: number }>();
    const now = this.d.host.nowMs();
    const startMs = this.d.sshdStartUptimeMs ?? GUEST_SSHD_START_UPTIME_MS;
    let nextStartMs = Infinity;
    for (const f of this.fips) {
      const g = this.d.host.guestOfPort(f.portId);
      if (!g) continue;
      const bootedAtMs = g.view.bootedAtMs ?? now;
      if (now - bootedAtMs < startMs) nextStartMs = Math.min(nextStartMs, bootedAtMs + startMs);
      else want.set(f.floatingIpAddress, { instanceId: g.instanceId, portId: f.portId, bootedAtMs });
    }
    for (const [address, l] of this.listeners) {
      const w = want.get(address);
      if (!w || w.instanceId !== l.instanceId || w.portId !== l.portId || w.bootedAtMs !== l.bootedAtMs) this.close(address);
    }
    for (const [address, w] of want) {
      if (this.listeners.has(address)) continue;
      const closing = this.closing.get(address);
      if (closing) void closing.then(() => this.reconcile());
      else this.open(address, w.instanceId, w.portId, w.bootedAtMs);
    }
    if (nextStartMs < Infinity) this.reconcileAt(nextStartMs);
  }

  /** Reconciles again at clock time `atMs` (a booting guest's sshd start), keeping the earliest one asked for. */
  private reconcileAt(atMs: number): void {
    if (this.stopped || (this.startTimer && this.startTimer.atMs <= atMs)) return;
    if (this.startTimer) clearTimeout(this.startTimer.timer);
    const timer = setTimeout(() => {
      this.startTimer = undefined;
      if (!this.stopped) this.reconcile();
    }, Math.max(0, atMs - this.d.host.nowMs()) + 1);
    timer.unref();
    this.startTimer = { timer, atMs };
  }

  /** Closes every listener and connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.startTimer) clearTimeout(this.startTimer.timer);
    await Promise.all([...[...this.listeners.keys()].map((a) => this.close(a)), ...this.closing.values()]);
  }

  /** Reconciles again in a while (an address still held by a listener that is going away: another host's, after a move). */
  private retrySoon(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.reconcile();
    }, 500);
    this.retryTimer.unref();
  }

  private open(address: string, instanceId: string, portId: string, bootedAtMs: number): void {
    if (this.stopped) return;
    const hostKeys = this.d.host.hostKeys(instanceId);
    if (!hostKeys) return;
    const l: Listener = { address, instanceId, portId, bootedAtMs, clients: new Set(), closed: false };
    this.listeners.set(address, l);
    const sshd = new Server({ hostKeys: [...hostKeys], ident: GUEST_SSHD_IDENT }, (client) => this.accept(l, client));
    sshd.maxConnections = this.limits.maxConnections;
    const tcp = createTcpServer((socket) => this.admit(l, sshd, socket));
    l.tcp = tcp;
    tcp.on('error', (e: NodeJS.ErrnoException) => {
      if (this.listeners.get(address) === l) this.listeners.delete(address);
      l.closed = true;
      // in use: the listener of the VM the address served before is still going away (on this host or another)
      if (e.code === 'EADDRINUSE') this.retrySoon();
      if (!this.unreachable.has(address)) {
        this.unreachable.add(address);
        const why = e.code === 'EADDRNOTAVAIL' ? 'the address is not on this machine (the external network is not routed here)' : e.code === 'EACCES' ? 'binding the port needs root or CAP_NET_BIND_SERVICE' : e.message;
        this.d.logger.warn({ host_id: this.d.hostId, instance_id: instanceId, floating_ip: address, port: this.d.port, err: e.code ?? e.message }, `guest sshd cannot listen on the floating IP: ${why}`);
      }
    });
    tcp.listen(this.d.port, address, () => {
      this.unreachable.delete(address);
      this.d.logger.info({ host_id: this.d.hostId, instance_id: instanceId, floating_ip: address }, 'guest sshd listening on its floating IP');
    });
  }

  /**
   * A new TCP connection to a guest's floating IP: handed to the sshd when the port's security
   * groups let it in; otherwise closed before the SSH banner (where a real cloud drops the SYN and
   * the client times out, this answers at once, so refused clients do not wait out a timeout).
   */
  private admit(l: Listener, sshd: Server, socket: Socket): void {
    socket.on('error', () => undefined);
    const check = this.d.host.ingressAllowed;
    if (!check) return sshd.injectSocket(socket);
    const clientIp = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    check(l.portId, clientIp, 22).then(
      (allowed) => {
        if (allowed && !l.closed && !socket.destroyed) return sshd.injectSocket(socket);
        if (!allowed) this.d.logger.info({ host_id: this.d.hostId, instance_id: l.instanceId, floating_ip: l.address, client_ip: clientIp }, "guest ssh connection refused by the port's security groups");
        socket.destroy();
      },
      (e: unknown) => {
        this.d.logger.warn({ host_id: this.d.hostId, instance_id: l.instanceId, floating_ip: l.address, err: e instanceof Error ? e.message : String(e) }, 'guest ssh connection refused: the security groups could not be checked');
        socket.destroy();
      },
    );
  }

  private close(address: string): Promise<void> {
    const l = this.listeners.get(address);
    if (!l) return Promise.resolve();
    this.listeners.delete(address);
    l.closed = true;
    for (const c of l.clients) c.end();
    l.clients.clear();
    // The listening socket is released at once; close's callback waits for the connections to end as
    // well, which a client may delay: the address is free again after a short grace either way.
    const done = new Promise<void>((resolve) => {
      l.tcp?.close(() => resolve());
      setTimeout(resolve, 100).unref();
    }).finally(() => {
      if (this.closing.get(address) === done) this.closing.delete(address);
    });
    this.closing.set(address, done);
    return done;
  }

  /** One client connection: public-key authentication, then sessions running the guest's shell. */
  private accept(l: Listener, client: Connection): void {
    if (l.closed) {
      client.end();
      return;
    }
    l.clients.add(client);
    let failures = 0;
    let user = '';
    let asRoot = false;
    const grace = setTimeout(() => client.end(), this.limits.loginGraceMs);
    grace.unref();
    client.on('error', () => undefined);
    client.on('close', () => {
      clearTimeout(grace);
      l.clients.delete(client);
    });
    client.on('authentication', (ctx: AuthContext) => {
      const deny = () => {
        if (ctx.method !== 'none' && ++failures >= this.limits.maxAuthTries) {
          client.end();
          return;
        }
        ctx.reject(['publickey']);
      };
      if (ctx.method !== 'publickey') return deny();
      const view = this.guestView(l);
      if (!view) return deny();
      const keyUser = ctx.username === 'root' ? DEFAULT_USER : ctx.username;
      const key = (view.authorizedKeys[keyUser] ?? []).map(publicKeyOf).find((k) => k && sameBlob(k, ctx.key.data));
      if (!key) return deny();
      if (!ctx.signature) return ctx.accept(); // the client asks whether the key would do: yes
      if (key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) return deny();
      user = keyUser;
      asRoot = ctx.username === 'root';
      ctx.accept();
    });
    client.on('ready', () => {
      clearTimeout(grace);
      let sessions = 0;
      client.on('session', (acceptSession, rejectSession) => {
        if (sessions >= this.limits.maxSessions || l.closed) return rejectSession();
        sessions++;
        const session = acceptSession();
        let pty = false;
        session.on('close', () => sessions--);
        session.on('pty', (accept) => {
          pty = true;
          accept?.();
        });
        session.on('window-change', (accept) => accept?.());
        session.on('env', (accept) => accept?.());
        session.on('exec', (accept, _reject, info) => {
          const stream = accept();
          if (asRoot) return finish(stream, { stdout: rootRefusal(user), stderr: '', exitCode: 142 }, pty);
          const system = this.systemOf(l, user);
          if (!system) return stream.close();
          finish(stream, runGuestCommand(info.command, system), pty);
        });
        session.on('shell', (accept) => {
          const stream = accept();
          if (asRoot) return finish(stream, { stdout: rootRefusal(user), stderr: '', exitCode: 142 }, pty);
          this.interactive(l, user, stream, pty);
        });
        session.on('subsystem', (_accept, reject) => reject());
      });
    });
  }

  /** A login shell on a channel: a prompt, one command per line, `exit` or end of input closes it. */
  private interactive(l: Listener, user: string, stream: ServerChannel, pty: boolean): void {
    const nl = (s: string) => (pty ? s.replace(/\r?\n/g, '\r\n') : s);
    const prompt = () => {
      const sys = this.systemOf(l, user);
      if (!sys) return stream.close();
      stream.write(`${user}@${sys.hostname}:~$ `);
    };
    let line = '';
    let status = 0;
    prompt();
    stream.on('data', (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          if (pty) stream.write('\r\n');
          const cmd = line.trim();
          line = '';
          if (cmd === 'exit' || cmd === 'logout') {
            stream.write(nl('logout\n'));
            stream.exit(status);
            stream.end();
            return;
          }
          const sys = this.systemOf(l, user);
          if (!sys) return stream.close();
          if (cmd) {
            const r = runGuestCommand(cmd, sys);
            status = r.exitCode;
            stream.write(nl(r.stdout));
            stream.stderr.write(nl(r.stderr));
          }
          prompt();
        } else if (ch === '\u007f' || ch === '\b') {
          if (line) {
            line = line.slice(0, -1);
            if (pty) stream.write('\b \b');
          }
        } else if (ch === '\u0003') {
          line = '';
          if (pty) stream.write('^C\r\n');
          prompt();
        } else if (ch === '\u0004' && !line) {
          stream.write(nl('logout\n'));
          stream.exit(status);
          stream.end();
          return;
        } else if (line.length < this.limits.maxLineBytes) {
          line += ch;
          if (pty) stream.write(ch);
        }
      }
    });
    stream.on('end', () => {
      stream.exit(status);
      stream.end();
    });
  }

  private guestView(l: Listener): GuestView | undefined {
    if (l.closed) return undefined;
    const g = this.d.host.guestOfPort(l.portId);
    return g && g.instanceId === l.instanceId ? g.view : undefined;
  }

  /** The shell's view of the guest now; undefined when it no longer runs behind this listener. */
  private systemOf(l: Listener, user: string): GuestSystem | undefined {
    if (l.closed) return undefined;
    const g = this.d.host.guestOfPort(l.portId);
    if (!g || g.instanceId !== l.instanceId) return undefined;
    const v = g.view;
    const now = this.d.host.nowMs();
    const load = g.cpuUtilizationRatio * v.vcpus;
    return {
      hostname: v.hostname,
      fqdn: v.fqdn || v.hostname,
      vcpus: v.vcpus,
      ramMb: v.ramMb,
      cpuMhz: g.cpuMhz,
      nics: v.nics,
      disks: g.disks,
      uptimeSeconds: Math.max(0, (now - (v.bootedAtMs ?? now)) / 1000),
      nowMs: now,
      loadAverage: [load, load, load],
      user,
      authorizedKeys: v.authorizedKeys[user] ?? [],
    };
  }
}

/** Writes a command's result to its channel and closes it with the exit status. */
function finish(stream: ServerChannel, r: ShellResult, pty: boolean): void {
  const nl = (s: string) => (pty ? s.replace(/\r?\n/g, '\r\n') : s);
  // with a pty both streams go to the terminal, as sshd gives them
  if (r.stdout) stream.write(nl(r.stdout));
  if (r.stderr) (pty ? stream : stream.stderr).write(nl(r.stderr));
  stream.exit(r.exitCode);
  stream.end();
}

function sameBlob(k: { getPublicSSH(): Buffer }, blob: Buffer): boolean {
  const mine = k.getPublicSSH();
  return mine.length === blob.length && timingSafeEqual(mine, blob);
}

/** The public key of an authorized_keys line (options before the key are not modelled); undefined when it does not parse. */
function publicKeyOf(line: string): ParsedKey | undefined {
  const parsed = sshUtils.parseKey(line);
  const k = Array.isArray(parsed) ? parsed[0] : parsed;
  return k && !(k instanceof Error) && !k.isPrivateKey() ? k : undefined;
}

/** A new sshd host key set for a guest: Ed25519 and ECDSA P-256 (ssh-keygen -A's cheap ones; RSA's generation is slow). */
export function newGuestHostKeys(): string[] {
  return [sshUtils.generateKeyPairSync('ed25519').private, sshUtils.generateKeyPairSync('ecdsa', { bits: 256 }).private];
}
