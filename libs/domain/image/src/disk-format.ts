/**
 * Disk formats the inspector recognises, named as Glance's `disk_format` values
 * (https://docs.openstack.org/glance/latest/user/formats.html). `vhd` is QEMU's "vpc".
 */
export const DISK_FORMATS = ['qcow2', 'raw', 'vmdk', 'vhd', 'vhdx', 'iso'] as const;

/** One of {@link DISK_FORMATS}. */
export type DiskFormat = (typeof DISK_FORMATS)[number];

/** Type guard for a user-supplied `disk_format` string. */
export function isDiskFormat(s: string): s is DiskFormat {
  return (DISK_FORMATS as readonly string[]).includes(s);
}
