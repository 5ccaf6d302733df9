import type { GuestDisk, GuestNic } from '@minicloud/domain-guest';

/** What the guest inside a VM is given: the config drive's data and its virtual hardware (from the spawn's InstanceSpec). */
export interface GuestSpec {
  readonly instanceId: string;
  readonly name: string;
  /** Nova's instance.hostname (sanitized display name). */
  readonly hostname: string;
  readonly projectId: string;
  /** User data, the decoded text ('' = none). */
  readonly userData: string;
  readonly keyName: string;
  /** The key pair's OpenSSH public key ('' = none). */
  readonly publicKey: string;
  /** The config drive's admin_pass: root's password cloud-init sets ('' = none). */
  readonly adminPass: string;
  readonly vcpus: number;
  readonly ramMb: number;
  readonly disks: readonly GuestDisk[];
  readonly nics: readonly GuestNic[];
}
