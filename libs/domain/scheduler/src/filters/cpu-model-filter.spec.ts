import { guestCpuOnHost, profileByName } from '@minicloud/domain-hypervisor';
import { makeHost, makeSpec } from '../testing';
import { cpuModelFilter } from './cpu-model-filter';

const host = (name: string) => {
  const p = profileByName(name, name);
  return makeHost({ hostId: name, cpuModel: p.cpuModel, cpuFlags: p.cpuFlags });
};

describe('CpuModelFilter', () => {
  it('passes every host for a new host-model or host-passthrough boot', () => {
    for (const props of [{}, { hw_cpu_mode: 'host-passthrough' }] as Record<string, string>[]) {
      expect(cpuModelFilter.hostPasses(host('large-2s64c-512g'), makeSpec({ image: { properties: props } })).passed).toBe(true);
    }
  });

  it('a custom model passes only hosts with its flags', () => {
    const spec = makeSpec({ flavor: { vcpus: 1, ramMb: 512, diskGb: 1, extraSpecs: { 'hw:cpu_mode': 'custom', 'hw:cpu_model': 'Skylake-Server' } } });
    expect(cpuModelFilter.hostPasses(host('compact-1s24c-128g'), spec).passed).toBe(true);
    const zen = cpuModelFilter.hostPasses(host('large-2s64c-512g'), spec);
    expect(zen).toEqual({ passed: false, reason: expect.stringContaining('avx512f') });
    expect(cpuModelFilter.hostPasses(makeHost({ hostId: 'unknown' }), spec).passed).toBe(false);
  });

  it('an invalid CPU request is a rejection naming the key, never a throw', () => {
    const spec = makeSpec({ flavor: { vcpus: 1, ramMb: 512, diskGb: 1, extraSpecs: { 'hw:cpu_mode': 'bogus' } } });
    expect(cpuModelFilter.hostPasses(host('std-2s32c-256g'), spec)).toEqual({ passed: false, reason: expect.stringContaining('hw:cpu_mode') });
  });

  it('a live migration of a host-passthrough guest passes only hosts of the same CPU model', () => {
    const guestCpu = guestCpuOnHost({ mode: 'host-passthrough' }, profileByName('hp-proliant-ml110-g4', 'x'));
    expect(cpuModelFilter.hostPasses(host('hp-proliant-ml110-g4'), makeSpec({ guestCpu })).passed).toBe(true);
    expect(cpuModelFilter.hostPasses(host('hp-proliant-ml110-g5'), makeSpec({ guestCpu })).passed).toBe(false);
    const hostModel = guestCpuOnHost({ mode: 'host-model' }, profileByName('hp-proliant-ml110-g4', 'x'));
    expect(cpuModelFilter.hostPasses(host('hp-proliant-ml110-g5'), makeSpec({ guestCpu: hostModel })).passed).toBe(true);
    expect(cpuModelFilter.hostPasses(host('large-2s64c-512g'), makeSpec({ guestCpu: hostModel })).passed).toBe(false);
  });
});
