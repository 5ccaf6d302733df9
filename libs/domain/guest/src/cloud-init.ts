import { ciInfoTable, netmaskOf } from './ci-info';
import { formatLine, GUEST_KERNEL, type TimedLine } from './kernel-log';
import { simulateShell, type SimulatedCommand } from './shell';
import { parseUserData, type UserData, type WriteFile } from './user-data';

/** The cloud-init release modelled (Ubuntu 22.04's package). */
export const CLOUD_INIT_VERSION = '22.4.2-0ubuntu0~22.04.1';

/** The link-local address cloud-init's DataSourceOpenStack reads (DEF_MD_URLS). */
export const METADATA_URL = 'http://169.254.169.254';

/** The default user of the image modelled (Ubuntu cloud images' `ubuntu`). */
export const DEFAULT_USER = 'ubuntu';

/** A public key of the instance's key pair, as the metadata service gives it (public_keys). */
export interface PublicKey {
  readonly name: string;
  /** The OpenSSH line: "ssh-ed25519 AAAA... comment". */
  readonly key: string;
}

/** What the datasource gave cloud-init (the metadata service, or the config drive). */
export interface DatasourceData {
  readonly instanceId: string;
  /** meta_data.json's `hostname` (Nova: `<hostname>.novalocal`). */
  readonly hostname: string;
  readonly publicKeys: readonly PublicKey[];
  readonly userData?: Uint8Array;
  /** The config drive's meta_data.json `admin_pass` (Nova's adminPass): root's password to set; absent: none. */
  readonly adminPass?: string;
}

/** A NIC as cloud-init's network info table shows it. */
export interface GuestNic {
  readonly macAddress: string;
  readonly ipv4?: string;
  readonly prefixLength?: number;
  /** The network's MTU (Neutron's: 1450 on VXLAN over a 1500 underlay); undefined: 1500. */
  readonly mtu?: number;
  /**
   * Hot-plugged into the running guest: the kernel sees the device, but nothing configures it (the
   * Ubuntu image's cloud-init renders netplan at first boot only, hotplug off), so it stays down with
   * no address, as `ip link` shows after `nova interface-attach` on such an image.
   */
  readonly hotplugged?: boolean;
}

/** One boot's cloud-init run. */
export interface CloudInitInput {
  /** 'openstack': read from the metadata service; 'config-drive': from the config drive, after `metadataFailure` when set. */
  readonly source: 'openstack' | 'config-drive';
  /** The metadata service could not be read: the URL tried and the error, logged as url_helper does. */
  readonly metadataFailure?: { readonly url: string; readonly error: string };
  readonly data: DatasourceData;
  readonly nics: readonly GuestNic[];
  /** Wall-clock time at guest uptime 0 (the injected clock's ms). */
  readonly bootStartedAtMs: number;
  /** Guest uptime when cloud-init's first stage starts. */
  readonly startUpSeconds: number;
  /** First boot of this instance: per-instance modules (users, keys, write_files, packages, runcmd, scripts) run only then. */
  readonly firstBoot: boolean;
  /** Hostname before this boot (the image's on a first boot). */
  readonly previousHostname: string;
  /** SHA256 fingerprint of a key's base64 body, colon-separated hex as cloud-init prints it (injected: hashing is the caller's). */
  readonly fingerprint?: (keyBase64: string) => string;
}

/** What a boot's cloud-init did to the guest, and its console lines. */
export interface CloudInitResult {
  readonly lines: TimedLine[];
  readonly hostname: string;
  readonly fqdn: string;
  /** authorized_keys lines per user (per-instance: empty on a later boot). */
  readonly authorizedKeys: Readonly<Record<string, readonly string[]>>;
  readonly files: readonly WriteFile[];
  /** root's password was set from the datasource's admin_pass (per-instance: false on a later boot). */
  readonly rootPasswordSet: boolean;
  /** Packages asked for: recorded, not installed (the simulated guest has no package mirror). */
  readonly packages: readonly string[];
  /** runcmd and script commands: `echo` run (its output is on the console), others recorded as run but not executed. */
  readonly commands: readonly SimulatedCommand[];
  readonly userData: UserData['kind'];
  /** str(datasource), as the finished line names it. */
  readonly datasource: string;
  readonly finishedUpSeconds: number;
}

/** cloud-init's time_rfc2822: "Mon, 07 Dec 2026 03:45:02 +0000". */
export function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

/** cloud-init's log line time: "2026-12-07 03:45:02,123". */
function logTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)},${iso.slice(20, 23)}`;
}

/** cloud-init's get_hostname_fqdn: fqdn, then hostname (a dotted one is the fqdn), then the metadata's. */
function hostnames(cfg: { hostname?: string; fqdn?: string } | undefined, metadataHostname: string): { hostname: string; fqdn: string } {
  if (cfg?.fqdn) return { fqdn: cfg.fqdn, hostname: cfg.hostname ?? cfg.fqdn.split('.')[0] };
  if (cfg?.hostname?.includes('.')) return { fqdn: cfg.hostname, hostname: cfg.hostname.split('.')[0] };
  if (cfg?.hostname) return { hostname: cfg.hostname, fqdn: metadataHostname.includes('.') ? `${cfg.hostname}.${metadataHostname.split('.').slice(1).join('.')}` : cfg.hostname };
  return { hostname: metadataHostname.split('.')[0], fqdn: metadataHostname };
}

/**
 * Runs cloud-init's four stages (init-local, init, modules:config, modules:final) over the datasource's
 * data and returns the console lines (the real formats: "Cloud-init v. V running 'STAGE' at DATE. Up N
 * seconds.", the ci-info network table, cc_set_passwords' "Changing password for ['root']:" when the
 * datasource has an admin_pass (first boot), the authorized keys table, the output of `echo` in runcmd or a
 * `#!` script prefixed "cloud-init[PID]: ", and "Cloud-init v. V finished at DATE. Datasource DS.  Up N
 * seconds"), the hostname set, the keys installed, the files written and the commands run.
 * A `#cloud-config` that does not parse is logged as cloud-init logs it and the boot goes on without
 * it; multipart and other unsupported user data is logged as not handled.
 */
export function runCloudInit(inp: CloudInitInput): CloudInitResult {
  const lines: TimedLine[] = [];
  let up = inp.startUpSeconds;
  const at = () => inp.bootStartedAtMs + Math.round(up * 1000);
  const ci = (pid: number, text: string) => lines.push({ upSeconds: up, text: `cloud-init[${pid}]: ${text}` });
  const warn = (pid: number, file: string, msg: string) => ci(pid, `${logTime(at())} - ${file}[WARNING]: ${msg}`);
  const stage = (pid: number, name: string) => ci(pid, `Cloud-init v. ${CLOUD_INIT_VERSION} running '${name}' at ${rfc2822(at())}. Up ${up.toFixed(2)} seconds.`);

  const userData = parseUserData(inp.data.userData);
  const cfg = userData.kind === 'cloud-config' ? userData.config : undefined;
  const datasource = inp.source === 'openstack' ? 'DataSourceOpenStack [net,ver=2]' : 'DataSourceConfigDrive [net,ver=2][source=/dev/sr0]';

  stage(512, 'init-local');
  up += 0.84;
  stage(587, 'init');
  if (inp.metadataFailure) {
    warn(587, 'url_helper.py', `Calling '${inp.metadataFailure.url}' failed [0/-1s]: request error [${inp.metadataFailure.error}]`);
    up += 0.21;
  }
  const nicRows = inp.nics.map((n, i) => [`ens${3 + i}`, 'True', n.ipv4 ?? '.', n.ipv4 ? netmaskOf(n.prefixLength ?? 24) : '.', n.ipv4 ? 'global' : '.', n.macAddress]);
  for (const l of ciInfoTable('Net device info', ['Device', 'Up', 'Address', 'Mask', 'Scope', 'Hw-Address'], [...nicRows, ['lo', 'True', '127.0.0.1', '255.0.0.0', 'host', '.']])) ci(587, l);
  if (userData.kind === 'invalid-cloud-config') warn(587, 'util.py', `Failed loading yaml blob. Invalid format at line: ${userData.error}`);
  if (userData.kind === 'unsupported') warn(587, 'handlers.py', `Unhandled non-multipart (${userData.contentType}) userdata: this simulated cloud-init does not process it`);
  if (userData.kind === 'unknown') warn(587, '__init__.py', `Unhandled non-multipart (text/x-not-multipart) userdata: '${userData.firstLine.slice(0, 40)}...'`);

  const { hostname, fqdn } = cfg?.preserveHostname ? { hostname: inp.previousHostname, fqdn: inp.previousHostname } : hostnames(cfg, inp.data.hostname);

  const authorizedKeys: Record<string, string[]> = {};
  const files: WriteFile[] = [];
  let packages: string[] = [];
  let commands: SimulatedCommand[] = [];
  const rootPasswordSet = inp.firstBoot && !!inp.data.adminPass;
  if (inp.firstBoot) {
    const metadataKeys = inp.data.publicKeys.map((k) => k.key.trim());
    const withDefault = !cfg?.users || cfg.users.includes('default');
    if (withDefault) authorizedKeys[DEFAULT_USER] = [...metadataKeys, ...(cfg?.sshAuthorizedKeys ?? [])];
    for (const u of cfg?.users ?? []) if (u !== 'default') authorizedKeys[u.name] = [...u.sshAuthorizedKeys];
    files.push(...(cfg?.writeFiles ?? []));
    packages = [...(cfg?.packages ?? [])];
    const script = userData.kind === 'script' ? userData.body : cfg?.runcmd.length ? cfg.runcmd.join('\n') : '';
    commands = script ? simulateShell(script) : [];
  }

  up += 1.37;
  stage(701, 'modules:config');
  // cc_set_passwords' own log line (the users, never the password)
  if (rootPasswordSet) ci(701, `${logTime(at())} - cc_set_passwords.py[DEBUG]: Changing password for ['root']:`);
  up += 0.92;
  stage(744, 'modules:final');
  up += 0.18;
  for (const c of commands) {
    for (const o of c.output) ci(744, o);
    up += 0.01;
  }
  if (inp.fingerprint) {
    for (const [user, keys] of Object.entries(authorizedKeys)) {
      if (!keys.length) continue;
      const home = user === 'root' ? '/root' : `/home/${user}`;
      const rows = keys.map((k) => {
        const [type = '-', body = '', ...comment] = k.split(/\s+/);
        return [type, body ? inp.fingerprint!(body) : '-', '-', comment.join(' ') || '-'];
      });
      for (const l of ciInfoTable(`Authorized keys from ${home}/.ssh/authorized_keys for user ${user}`, ['Keytype', 'Fingerprint (sha256)', 'Options', 'Comment'], rows)) ci(744, l);
    }
  }
  up += 0.3;
  lines.push({ upSeconds: up, text: '' });
  lines.push({ upSeconds: up, text: `${GUEST_KERNEL.osName} ${hostname} ttyS0` });
  lines.push({ upSeconds: up, text: '' });
  lines.push({ upSeconds: up, text: `${hostname} login: ` });
  up += 0.05;
  ci(744, `Cloud-init v. ${CLOUD_INIT_VERSION} finished at ${rfc2822(at())}. Datasource ${datasource}.  Up ${up.toFixed(2)} seconds`);
  return { lines, hostname, fqdn, authorizedKeys, files, rootPasswordSet, packages, commands, userData: userData.kind, datasource, finishedUpSeconds: up };
}

/**
 * The console text of timed lines: kernel and cloud-init lines carry the kernel stamp; the blank
 * lines and the getty banner around the login prompt are printed bare, as agetty writes them.
 */
export function consoleText(lines: readonly TimedLine[]): string[] {
  return lines.map((l) => (l.text === '' || l.text.startsWith(GUEST_KERNEL.osName) || l.text.endsWith(' login: ') ? l.text : formatLine(l)));
}
