import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import {
  ConsoleLog,
  consoleText,
  DHCP_DOMAIN,
  formatLine,
  GUEST_KERNEL,
  kernelBootLines,
  METADATA_URL,
  runCloudInit,
  type CloudInitResult,
  type DatasourceData,
  type GuestNic,
} from '@minicloud/domain-guest';
import type { GuestSpec } from './guest-spec';
import { MetadataUnavailableError, type MetadataReader } from './metadata-client';

/** What one boot's datasource gave: the data, where it came from, and a metadata failure if any. */
interface Datasource {
  readonly source: 'openstack' | 'config-drive';
  readonly data: DatasourceData;
  readonly failure?: { url: string; error: string };
  readonly vendorData2?: Record<string, unknown>;
}

/** One guest: its console log (kept across reboots), its boots and what cloud-init did. */
interface Guest {
  readonly spec: GuestSpec;
  readonly log: ConsoleLog;
  boots: number;
  hostname: string;
  datasource?: Datasource;
  lastCloudInit?: CloudInitResult;
  /** root's password as /etc/shadow holds it: a salted hash (scrypt here), never the text. */
  rootPassword?: { salt: Buffer; hash: Buffer };
  /** Clock time of the last power-on (guest uptime 0). */
  bootedAtMs?: number;
  /** sshd's host keys (OpenSSH private keys), made on first use as the image's first boot makes them. */
  hostKeys?: readonly string[];
  /** NICs hot-plugged since the boot spec (in plug order), and the MACs of boot NICs unplugged. */
  plugged: GuestNic[];
  unplugged: Set<string>;
}

/** A guest's state as the agent exposes it (tests, diagnostics). */
export interface GuestView {
  readonly hostname: string;
  readonly boots: number;
  readonly authorizedKeys: Readonly<Record<string, readonly string[]>>;
  readonly datasource?: string;
  /** vendor_data2.json as the guest read it (the instance identity credential). */
  readonly vendorData2?: Record<string, unknown>;
  readonly cloudInit?: CloudInitResult;
  /** root has a password (set by cloud-init from admin_pass, or by the agent's set-password command). */
  readonly rootPasswordSet: boolean;
  /** The project the VM belongs to. */
  readonly projectId: string;
  /** The fully-qualified name cloud-init set ('' before a boot). */
  readonly fqdn: string;
  /** Clock time of the last power-on; undefined before the first boot. */
  readonly bootedAtMs?: number;
  readonly vcpus: number;
  readonly ramMb: number;
  readonly nics: readonly GuestNic[];
}

/** A salted scrypt hash of a password (the guest's shadow entry). */
function shadowOf(password: string): { salt: Buffer; hash: Buffer } {
  const salt = randomBytes(16);
  return { salt, hash: scryptSync(password, salt, 32) };
}

/** cloud-init's key fingerprint: SHA256 of the key blob, colon-separated lower-case hex (cc_ssh_authkey_fingerprints). */
export function sshFingerprint(keyBase64: string): string {
  const hex = createHash('sha256').update(Buffer.from(keyBase64, 'base64')).digest('hex');
  return hex.match(/../g)!.join(':');
}

/** The config drive's data (Nova writes the same meta_data.json and user_data to it), from the spawn command. */
function configDrive(spec: GuestSpec): DatasourceData {
  return {
    instanceId: spec.instanceId,
    hostname: `${spec.hostname}.${DHCP_DOMAIN}`,
    publicKeys: spec.keyName && spec.publicKey ? [{ name: spec.keyName, key: spec.publicKey }] : [],
    userData: spec.userData ? new TextEncoder().encode(spec.userData) : undefined,
    adminPass: spec.adminPass || undefined,
  };
}

/**
 * The guests of one host: each VM's serial console (a 64 KiB ring, appended at every boot, dropped
 * with the VM) and its simulated cloud-init. Before a first boot, `prepare` reads the datasource as
 * DataSourceOpenStack does, through the metadata API (`read`, the agent playing Neutron's metadata
 * proxy); when that fails (or no metadata API is configured) the failure is logged as cloud-init logs
 * it and the config drive's data from the spawn command is used. `boot` writes the kernel lines and
 * cloud-init's run at the clock's time; per-instance modules (keys, users, files, scripts) run on the
 * first boot only, as cloud-init's per-instance semaphores make them.
 */
export class GuestConsoles {
  private readonly guests = new Map<string, Guest>();

  constructor(private readonly read?: MetadataReader) {}

  /** Reads the guest's datasource before its first boot. Never throws (a failure falls back to the config drive). */
  async prepare(spec: GuestSpec): Promise<void> {
    const g = this.guestOf(spec);
    if (g.datasource) return;
    g.datasource = await this.readDatasource(spec);
  }

  private async readDatasource(spec: GuestSpec): Promise<Datasource> {
    const drive = configDrive(spec);
    if (!this.read) return { source: 'config-drive', data: drive, failure: { url: `${METADATA_URL}/openstack`, error: 'no route to host' } };
    try {
      const r = await this.read(spec.instanceId, spec.projectId);
      const keys = r.metaData.public_keys && typeof r.metaData.public_keys === 'object' ? Object.entries(r.metaData.public_keys as Record<string, unknown>) : [];
      return {
        source: 'openstack',
        data: {
          instanceId: spec.instanceId,
          hostname: typeof r.metaData.hostname === 'string' ? r.metaData.hostname : drive.hostname,
          publicKeys: keys.filter((e): e is [string, string] => typeof e[1] === 'string').map(([name, key]) => ({ name, key })),
          userData: r.userData,
          // Nova puts admin_pass in the config drive's meta_data.json only: the guest reads it there
          adminPass: drive.adminPass,
        },
        vendorData2: r.vendorData2,
      };
    } catch (e) {
      const failure = e instanceof MetadataUnavailableError ? { url: e.url, error: e.reason } : { url: `${METADATA_URL}/openstack`, error: String(e) };
      return { source: 'config-drive', data: drive, failure };
    }
  }

  /**
   * A guest arriving by live migration: it has booted already (its disk holds cloud-init's
   * per-instance semaphores), so a later reboot here does not rerun per-instance modules. Its console
   * starts empty: the log was the source host's file.
   */
  adoptMigrated(spec: GuestSpec): void {
    const g = this.guestOf(spec);
    g.boots = Math.max(g.boots, 1);
    g.hostname = spec.hostname;
  }

  /** Appends one boot to the guest's console: kernel lines, then cloud-init's run (`atMs`: the clock's time at power-on). */
  boot(spec: GuestSpec, atMs: number): void {
    const g = this.guestOf(spec);
    const ds = g.datasource ?? { source: 'config-drive' as const, data: configDrive(spec) };
    const kernel = kernelBootLines({ vcpus: spec.vcpus, ramMb: spec.ramMb, disks: spec.disks, nics: spec.nics });
    const ci = runCloudInit({
      source: ds.source,
      metadataFailure: ds.failure,
      data: ds.data,
      nics: spec.nics,
      bootStartedAtMs: atMs,
      startUpSeconds: 4.1,
      firstBoot: g.boots === 0,
      previousHostname: g.hostname,
      fingerprint: sshFingerprint,
    });
    g.boots += 1;
    g.bootedAtMs = atMs;
    g.hostname = ci.hostname;
    if (ci.rootPasswordSet && ds.data.adminPass) g.rootPassword = shadowOf(ds.data.adminPass);
    g.lastCloudInit = g.boots === 1 ? ci : { ...ci, authorizedKeys: g.lastCloudInit?.authorizedKeys ?? {}, files: g.lastCloudInit?.files ?? [] };
    g.log.appendLines([...kernel.map(formatLine), ...consoleText(ci.lines)]);
  }

  /** The guest's console tail (Nova's semantics: undefined or -1 all, 0 nothing, N last lines); '' when it never booted. */
  output(instanceId: string, length?: number): string {
    return this.guests.get(instanceId)?.log.tail(length) ?? '';
  }

  /** The guest's state, or undefined when there is no such guest. */
  view(instanceId: string): GuestView | undefined {
    const g = this.guests.get(instanceId);
    if (!g) return undefined;
    return {
      hostname: g.hostname,
      boots: g.boots,
      authorizedKeys: g.lastCloudInit?.authorizedKeys ?? {},
      datasource: g.lastCloudInit?.datasource,
      vendorData2: g.datasource?.vendorData2,
      cloudInit: g.lastCloudInit,
      rootPasswordSet: !!g.rootPassword,
      projectId: g.spec.projectId,
      fqdn: g.lastCloudInit?.fqdn ?? '',
      bootedAtMs: g.bootedAtMs,
      vcpus: g.spec.vcpus,
      ramMb: g.spec.ramMb,
      nics: [...g.spec.nics.filter((n) => !g.unplugged.has(n.macAddress)), ...g.plugged],
    };
  }

  /**
   * The guest's sshd host keys (OpenSSH private keys), made by `make` the first time they are asked
   * for and kept with the guest (its disk's /etc/ssh): the same keys answer until the VM is deleted.
   * @returns undefined when there is no such guest
   */
  hostKeys(instanceId: string, make: () => string[]): readonly string[] | undefined {
    const g = this.guests.get(instanceId);
    if (!g) return undefined;
    g.hostKeys ??= make();
    return g.hostKeys;
  }

  /**
   * Sets root's password of a booted guest (what the guest agent does for libvirt's set_user_password);
   * nothing reaches the console. @returns false when there is no such guest
   */
  setRootPassword(instanceId: string, password: string): boolean {
    const g = this.guests.get(instanceId);
    if (!g) return false;
    g.rootPassword = shadowOf(password);
    return true;
  }

  /** True when `password` is root's password of the guest (a login check against its shadow entry). */
  checkRootPassword(instanceId: string, password: string): boolean {
    const p = this.guests.get(instanceId)?.rootPassword;
    return !!p && timingSafeEqual(scryptSync(password, p.salt, 32), p.hash);
  }

  /** Forgets the guest and its console (the VM was deleted or left the host). */
  /** A vNIC hot-plugged into the running guest (interface attach): the device appears, unconfigured. No-op for an unknown guest. */
  plugNic(instanceId: string, macAddress: string): void {
    const g = this.guests.get(instanceId);
    if (!g || !macAddress) return;
    if (g.plugged.some((n) => n.macAddress === macAddress)) return;
    g.plugged.push({ macAddress, hotplugged: true });
  }

  /** A vNIC hot-unplugged (interface detach): it leaves the guest, boot NIC or hot-plugged. No-op for an unknown guest. */
  unplugNic(instanceId: string, macAddress: string): void {
    const g = this.guests.get(instanceId);
    if (!g || !macAddress) return;
    const i = g.plugged.findIndex((n) => n.macAddress === macAddress);
    if (i >= 0) g.plugged.splice(i, 1);
    else g.unplugged.add(macAddress);
  }

  drop(instanceId: string): void {
    this.guests.delete(instanceId);
  }

  private guestOf(spec: GuestSpec): Guest {
    let g = this.guests.get(spec.instanceId);
    if (!g) {
      g = { spec, log: new ConsoleLog(), boots: 0, hostname: GUEST_KERNEL.imageHostname, plugged: [], unplugged: new Set() };
      this.guests.set(spec.instanceId, g);
    }
    return g;
  }
}
