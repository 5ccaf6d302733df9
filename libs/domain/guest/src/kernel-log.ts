/** A disk as the guest sees it: a virtio-blk device. */
export interface GuestDisk {
  /** vda, vdb, ... */
  readonly device: string;
  readonly sizeGb: number;
}

/** The virtual machine the guest kernel finds (from the flavor, the disks and the ports). */
export interface GuestMachine {
  readonly vcpus: number;
  readonly ramMb: number;
  readonly disks: readonly GuestDisk[];
  /** One per port, in order (the guest names them ens3, ens4, ...). */
  readonly nics: readonly { readonly macAddress: string }[];
}

/** A console line at a guest uptime. */
export interface TimedLine {
  readonly upSeconds: number;
  readonly text: string;
}

/**
 * The guest kernel modelled: an Ubuntu 22.04 cloud image's generic kernel under KVM (what Nova's
 * libvirt driver boots with `console=ttyS0`, so the kernel writes to the console log).
 */
export const GUEST_KERNEL = {
  release: '5.15.0-91-generic',
  banner:
    'Linux version 5.15.0-91-generic (buildd@lcy02-amd64-045) (gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0, GNU ld (GNU Binutils for Ubuntu) 2.38) #101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023 (Ubuntu 5.15.0-91.101-generic 5.15.131)',
  commandLine: 'BOOT_IMAGE=/boot/vmlinuz-5.15.0-91-generic root=LABEL=cloudimg-rootfs ro console=tty1 console=ttyS0',
  osName: 'Ubuntu 22.04.3 LTS',
  /** The image's hostname before cloud-init sets one. */
  imageHostname: 'ubuntu',
} as const;

/** The kernel's "[    1.234567]" stamp. */
export function kernelStamp(upSeconds: number): string {
  const us = Math.round(upSeconds * 1e6);
  return `[${String(Math.floor(us / 1e6)).padStart(5)}.${String(us % 1e6).padStart(6, '0')}]`;
}

/** A timed line as the console shows it. */
export function formatLine(l: TimedLine): string {
  return `${kernelStamp(l.upSeconds)} ${l.text}`;
}

const GB = 1e9;
const GIB = 2 ** 30;

/**
 * Guest uptime (ms) at which its sshd starts listening: the guest's port 22 is closed while it boots
 * and answers once systemd, which the kernel hands over to at about 2.1 s of uptime (the boot
 * messages below), has started ssh.service. A client that connects earlier is refused and retries,
 * as against a real guest; after a reboot the port is closed again until the new boot gets there.
 */
export const GUEST_SSHD_START_UPTIME_MS = 2_500;

/**
 * The kernel's boot messages for `m` (linux's printk formats): banner, command line, KVM detection,
 * "Memory: availK/totalK available" from the flavor's RAM (total less the BIOS holes, available less
 * the kernel image and early reservations), "smpboot: Allowing N CPUs", one virtio_blk line per
 * disk (512-byte blocks, GB and GiB as sd_format_disk_size prints them), one virtio_net rename per
 * NIC, the root mount and systemd's start. Ends at about 2.4 s of uptime.
 */
export function kernelBootLines(m: GuestMachine): TimedLine[] {
  const totalK = m.ramMb * 1024 - 388;
  const reservedK = 58_000 + Math.round(m.ramMb * 1024 * 0.012);
  const lines: TimedLine[] = [
    { upSeconds: 0, text: GUEST_KERNEL.banner },
    { upSeconds: 0, text: `Command line: ${GUEST_KERNEL.commandLine}` },
    { upSeconds: 0, text: 'Hypervisor detected: KVM' },
    { upSeconds: 0, text: 'DMI: OpenStack Foundation OpenStack Nova, BIOS 1.15.0-1 04/01/2014' },
    { upSeconds: 0, text: `smpboot: Allowing ${m.vcpus} CPUs, 0 hotplug CPUs` },
    { upSeconds: 0.011872, text: `Memory: ${totalK - reservedK}K/${totalK}K available (16393K kernel code, 4384K rwdata, 10820K rodata, 3224K init, 6620K bss, ${reservedK}K reserved, 0K cma-reserved)` },
    { upSeconds: 0.102031, text: `smp: Brought up 1 node, ${m.vcpus} CPU${m.vcpus === 1 ? '' : 's'}` },
  ];
  const nicCount = m.nics.length;
  m.disks.forEach((d, i) => {
    const bytes = d.sizeGb * GIB;
    lines.push({ upSeconds: 0.512406 + i * 0.001, text: `virtio_blk virtio${nicCount + 1 + i}: [${d.device}] ${bytes / 512} 512-byte logical blocks (${(bytes / GB).toFixed(1)} GB/${(bytes / GIB).toFixed(1)} GiB)` });
  });
  m.nics.forEach((_, i) => {
    lines.push({ upSeconds: 0.561772 + i * 0.001, text: `virtio_net virtio${i} ens${3 + i}: renamed from eth${i}` });
  });
  if (m.disks.length) lines.push({ upSeconds: 1.204118, text: `EXT4-fs (${m.disks[0].device}1): mounted filesystem with ordered data mode. Opts: (null). Quota mode: none.` });
  lines.push({ upSeconds: 2.118702, text: 'systemd[1]: systemd 249.11-0ubuntu3.11 running in system mode (+PAM +AUDIT +SELINUX +APPARMOR +IMA +SMACK +SECCOMP +GCRYPT +GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN +IPTC +KMOD +LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY -P11KIT -QRENCODE +BZIP2 +LZ4 +XZ +ZLIB +ZSTD -XKBCOMMON +UTMP +SYSVINIT default-hierarchy=unified)' });
  lines.push({ upSeconds: 2.120334, text: 'systemd[1]: Detected virtualization kvm.' });
  lines.push({ upSeconds: 2.121020, text: 'systemd[1]: Detected architecture x86-64.' });
  return lines;
}
