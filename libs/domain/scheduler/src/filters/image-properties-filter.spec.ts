import { makeHost, makeSpec } from '../testing';
import { canonicalArchitecture, imagePropertiesFilter } from './image-properties-filter';

describe('ImagePropertiesFilter', () => {
  it.each<{ name: string; props: Record<string, string>; passed: boolean }>([
    { name: 'no properties', props: {}, passed: true },
    { name: 'same arch', props: { hw_architecture: 'x86_64' }, passed: true },
    { name: 'arch alias amd64', props: { hw_architecture: 'amd64' }, passed: true },
    { name: 'legacy architecture key', props: { architecture: 'aarch64' }, passed: false },
    { name: 'other arch', props: { hw_architecture: 'aarch64' }, passed: false },
    { name: 'hv type case-insensitive', props: { img_hv_type: 'QEMU' }, passed: true },
    { name: 'other hv type', props: { img_hv_type: 'xen' }, passed: false },
    { name: 'legacy hypervisor_type key', props: { hypervisor_type: 'kvm' }, passed: false },
  ])('$name -> $passed', ({ props, passed }) => {
    const host = makeHost({ hostId: 'h1', architecture: 'x86_64', hypervisorType: 'qemu' });
    expect(imagePropertiesFilter.hostPasses(host, makeSpec({ image: { properties: props } })).passed).toBe(passed);
  });

  it.each([
    ['AMD64', 'x86_64'],
    ['arm64', 'aarch64'],
    ['i386', 'i686'],
    ['ppc64le', 'ppc64le'],
  ])('canonicalArchitecture(%s) = %s', (input, expected) => {
    expect(canonicalArchitecture(input)).toBe(expected);
  });
});
