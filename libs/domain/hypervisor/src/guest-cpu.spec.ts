import { InvalidArgumentError } from '@minicloud/domain-errors';
import { type GuestCpuMode, cannotBootGuestCpu, cannotMigrateGuestCpu, guestCpuOnHost, guestCpuRequestOf, missingCpuFlags, NAMED_CPU_MODELS } from './guest-cpu';
import { profileByName, type HostProfile } from './host-profile';

const g4 = profileByName('hp-proliant-ml110-g4', 'g4');
const g5 = profileByName('hp-proliant-ml110-g5', 'g5');
const skylake = profileByName('std-2s32c-256g', 'sky');
const icelake = profileByName('compact-1s24c-128g', 'ice');
const zen3 = profileByName('large-2s64c-512g', 'zen');

describe('guestCpuRequestOf', () => {
  it('defaults to Nova\'s host-model; the flavor\'s or the image\'s key sets the mode', () => {
    expect(guestCpuRequestOf({}, {})).toEqual({ mode: 'host-model' });
    expect(guestCpuRequestOf({ 'hw:cpu_mode': 'host-passthrough' }, {})).toEqual({ mode: 'host-passthrough' });
    expect(guestCpuRequestOf({}, { hw_cpu_mode: 'host-passthrough' })).toEqual({ mode: 'host-passthrough' });
    expect(guestCpuRequestOf({ 'hw:cpu_mode': 'custom', 'hw:cpu_model': 'Penryn' }, {})).toEqual({ mode: 'custom', model: 'Penryn' });
    expect(guestCpuRequestOf({}, { hw_cpu_model: 'EPYC-Milan' })).toEqual({ mode: 'custom', model: 'EPYC-Milan' });
  });

  it.each<[Record<string, string>, Record<string, string>, string]>([
    [{ 'hw:cpu_mode': 'passthrough' }, {}, 'hw:cpu_mode'],
    [{ 'hw:cpu_mode': 'custom' }, {}, 'hw:cpu_model'],
    [{ 'hw:cpu_mode': 'custom', 'hw:cpu_model': 'Pentium-MMX' }, {}, 'hw:cpu_model'],
    [{ 'hw:cpu_mode': 'host-model', 'hw:cpu_model': 'Penryn' }, {}, 'hw:cpu_model'],
    [{ 'hw:cpu_mode': 'host-model' }, { hw_cpu_mode: 'host-passthrough' }, 'hw:cpu_mode'],
  ])('%j + image %j is refused naming %s', (specs, props, field) => {
    let err: unknown;
    try {
      guestCpuRequestOf(specs, props);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toContain(field);
  });
});

describe('guest CPU at boot', () => {
  it('host-passthrough and host-model take the host\'s model and flags; custom the named model\'s', () => {
    expect(guestCpuOnHost({ mode: 'host-passthrough' }, skylake)).toEqual({ mode: 'host-passthrough', model: 'Intel Xeon Gold 6142', flags: [...skylake.cpuFlags] });
    expect(guestCpuOnHost({ mode: 'host-model' }, zen3).flags).toEqual([...zen3.cpuFlags]);
    const penryn = guestCpuOnHost({ mode: 'custom', model: 'Penryn' }, zen3);
    expect(penryn).toEqual({ mode: 'custom', model: 'Penryn', flags: NAMED_CPU_MODELS.Penryn });
    expect(penryn.flags).not.toContain('vmx');
  });

  it('a custom model refuses a host lacking its flags (Skylake-Server needs avx512f, which Zen 3 lacks)', () => {
    expect(cannotBootGuestCpu({ mode: 'custom', model: 'Skylake-Server' }, zen3)).toMatch(/avx512f/);
    expect(cannotBootGuestCpu({ mode: 'custom', model: 'Skylake-Server' }, icelake)).toBeUndefined();
    expect(cannotBootGuestCpu({ mode: 'host-passthrough' }, zen3)).toBeUndefined();
    expect(() => guestCpuOnHost({ mode: 'custom', model: 'Skylake-Server' }, zen3)).toThrow(InvalidArgumentError);
  });
});

describe('cannotMigrateGuestCpu (the destination check of live migration)', () => {
  const hosts: Record<string, HostProfile> = { g4, g5, skylake, skylake2: { ...skylake, hostId: 'sky2' }, icelake, zen3 };
  it.each<[string, string, string, string, boolean]>([
    // mode, model (custom), boot host, destination, allowed
    ['host-passthrough', '', 'g4', 'g5', false], // same flags, other model
    ['host-passthrough', '', 'skylake', 'skylake2', true],
    ['host-passthrough', '', 'skylake', 'icelake', false], // a superset of flags is not enough
    ['host-model', '', 'g4', 'g5', true],
    ['host-model', '', 'skylake', 'icelake', true], // Icelake-SP has every Skylake-SP flag
    ['host-model', '', 'icelake', 'skylake', false], // avx512_vnni, sha_ni missing
    ['host-model', '', 'skylake', 'zen3', false], // vmx, avx512f, ept missing
    ['custom', 'Penryn', 'skylake', 'zen3', true],
    ['custom', 'Skylake-Server', 'skylake', 'zen3', false],
  ])('%s %s booted on %s -> %s: allowed %s', (mode, model, boot, dest, allowed) => {
    const guest = guestCpuOnHost({ mode: mode as GuestCpuMode, model: model || undefined }, hosts[boot]);
    expect(cannotMigrateGuestCpu(guest, hosts[dest]) === undefined).toBe(allowed);
  });

  it('names what is wrong', () => {
    expect(cannotMigrateGuestCpu(guestCpuOnHost({ mode: 'host-passthrough' }, g4), g5)).toBe("the guest's host-passthrough CPU is a Intel Xeon 3040; the destination's is a Intel Xeon 3075");
    expect(cannotMigrateGuestCpu(guestCpuOnHost({ mode: 'host-model' }, icelake), skylake)).toBe("the destination's Intel Xeon Gold 6142 lacks CPU flags the guest uses: avx512_vnni, sha_ni");
    expect(missingCpuFlags(['a', 'b', 'c'], ['b'])).toEqual(['a', 'c']);
  });
});
