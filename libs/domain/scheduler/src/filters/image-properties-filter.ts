import { HostFilter, PASS, reject } from '../host-filter';

const ARCH_ALIASES: Record<string, string> = {
  amd64: 'x86_64',
  x64: 'x86_64',
  x86_64: 'x86_64',
  i386: 'i686',
  i486: 'i686',
  i586: 'i686',
  x86: 'i686',
  i686: 'i686',
  arm64: 'aarch64',
  aarch64: 'aarch64',
};

/** Canonical architecture name (subset of Nova's `obj_fields.Architecture.canonicalize`). */
export function canonicalArchitecture(arch: string): string {
  const lower = arch.trim().toLowerCase();
  return ARCH_ALIASES[lower] ?? lower;
}

/**
 * Nova's ImagePropertiesFilter: the image's architecture (`hw_architecture`, legacy `architecture`)
 * and hypervisor type (`img_hv_type`, legacy `hypervisor_type`), when set, must match the host's.
 * Architectures are canonicalised (amd64 = x86_64); hypervisor types compare case-insensitively.
 */
export const imagePropertiesFilter: HostFilter = {
  name: 'ImagePropertiesFilter',
  summary: { one: 'does not match the image properties', many: 'do not match the image properties' },
  hostPasses(host, spec) {
    const props = spec.image.properties;
    const arch = props['hw_architecture'] ?? props['architecture'];
    if (arch && canonicalArchitecture(arch) !== canonicalArchitecture(host.architecture)) {
      return reject(`image wants architecture ${arch}, host is ${host.architecture}`);
    }
    const hvType = props['img_hv_type'] ?? props['hypervisor_type'];
    if (hvType && hvType.trim().toLowerCase() !== host.hypervisorType.trim().toLowerCase()) {
      return reject(`image wants hypervisor type ${hvType}, host is ${host.hypervisorType}`);
    }
    return PASS;
  },
};
