/**
 * Disk formats the inspector recognises, named as Glance's `disk_format` values
 * (https://docs.openstack.org/glance/latest/user/formats.html). `vhd` is QEMU's "vpc".
 */
export const DISK_FORMATS = ['qcow2', 'raw', 'vmdk', 'vhd', 'vhdx', 'iso'] as const;

/** One of {@link DISK_FORMATS}. */
export type DiskFormat = (typeof DISK_FORMATS)[number];

/** Type guard for a disk format the inspector recognises. */
export function isDiskFormat(s: string): s is DiskFormat {
  return (DISK_FORMATS as readonly string[]).includes(s);
}

/**
 * Every `disk_format` Glance accepts (glance-api.conf `disk_formats` default). Of these, the inspector
 * reads no header of aki, ari and ami (the Amazon kernel, ramdisk and machine images, which Glance
 * does not inspect either), vdi and ploop: their declared name is kept without comparing it with the
 * bytes; the bytes' own safety checks still apply.
 */
export const GLANCE_DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;

/** Glance's `container_formats` default (the container is a label: nothing inspects it). */
export const GLANCE_CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;

/** True for a `disk_format` Glance accepts at create time ({@link GLANCE_DISK_FORMATS}). */
export function isGlanceDiskFormat(s: string): boolean {
  return (GLANCE_DISK_FORMATS as readonly string[]).includes(s);
}

/** True for a declared format the inspector cannot check against the bytes (in Glance's list, not in {@link DISK_FORMATS}). */
export function isUninspectedDiskFormat(s: string): boolean {
  return isGlanceDiskFormat(s) && !isDiskFormat(s);
}
