import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import {
  CLOUDSIM_PROFILE_ROTATION,
  DEFAULT_PROFILE_ROTATION,
  HOST_PROFILE_CATALOG,
  logicalCpus,
  physicalCores,
  pickProfile,
  profileByName,
  totalCpuMhz,
  validateHostProfile,
} from './host-profile';
import { HP_PROLIANT_ML110_G4_POWER, HP_PROLIANT_ML110_G5_POWER, powerWatts } from './power-model';

describe('host profile catalog', () => {
  it.each([
    // name, logical CPUs, total MHz, ram_mb
    ['hp-proliant-ml110-g4', 2, 3720, 4096],
    ['hp-proliant-ml110-g5', 2, 5320, 4096],
    ['std-2s32c-256g', 64, 83200, 262144],
    ['large-2s64c-512g', 128, 179200, 524288],
    ['compact-1s24c-128g', 48, 57600, 131072],
  ])('%s: %i logical CPUs, %i MHz, %i MB', (name, cpus, mhz, ramMb) => {
    const p = profileByName(name, 'h1');
    expect(logicalCpus(p)).toBe(cpus);
    expect(totalCpuMhz(p)).toBe(mhz);
    expect(p.ramMb).toBe(ramMb);
    expect(p.hypervisorType).toBe('qemu');
    expect(p.architecture).toBe('x86_64');
    expect(validateHostProfile(p)).toBe(p);
  });

  it('uses the CloudSim hosts with their SPECpower models', () => {
    const g4 = HOST_PROFILE_CATALOG['hp-proliant-ml110-g4'];
    const g5 = HOST_PROFILE_CATALOG['hp-proliant-ml110-g5'];
    expect([physicalCores(g4), g4.cpuMhz, g4.powerModel]).toEqual([2, 1860, HP_PROLIANT_ML110_G4_POWER]);
    expect([physicalCores(g5), g5.cpuMhz, g5.powerModel]).toEqual([2, 2660, HP_PROLIANT_ML110_G5_POWER]);
  });

  it('gives every profile a power model that rises with load', () => {
    for (const p of Object.values(HOST_PROFILE_CATALOG)) {
      expect(powerWatts(p.powerModel, 1)).toBeGreaterThan(powerWatts(p.powerModel, 0));
    }
  });

  it('is frozen so a host cannot change the catalog', () => {
    const p = HOST_PROFILE_CATALOG['std-2s32c-256g'];
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.cpuFlags)).toBe(true);
  });
});

describe('pickProfile', () => {
  it('rotates through the default profiles so N agents differ', () => {
    const names = [0, 1, 2, 3].map((i) => pickProfile(i).profileName);
    expect(names).toEqual([...DEFAULT_PROFILE_ROTATION, DEFAULT_PROFILE_ROTATION[0]]);
    expect(new Set(names.slice(0, 3)).size).toBe(3);
  });

  it('alternates G4/G5 like CloudSim with that rotation', () => {
    expect([0, 1, 2].map((i) => pickProfile(i, `h${i}`, CLOUDSIM_PROFILE_ROTATION).cpuMhz)).toEqual([1860, 2660, 1860]);
  });

  it('sets the host id (default host-<index>)', () => {
    expect(pickProfile(5).hostId).toBe('host-5');
    expect(pickProfile(5, 'rack1-h5').hostId).toBe('rack1-h5');
  });

  it.each([-1, 1.5, Number.NaN])('rejects index %p', (i) => {
    expect(() => pickProfile(i)).toThrow(InvalidArgumentError);
  });

  it('rejects an empty rotation and unknown names', () => {
    expect(() => pickProfile(0, 'h', [])).toThrow(/rotation/);
    expect(() => profileByName('toString', 'h')).toThrow(NotFoundError);
  });
});

describe('validateHostProfile', () => {
  const base = profileByName('std-2s32c-256g', 'h1');
  it.each([
    [{ sockets: 0 }, 'host_profile.sockets'],
    [{ threadsPerCore: 1.5 }, 'host_profile.threads_per_core'],
    [{ ramMb: -1 }, 'host_profile.ram_mb'],
    [{ cpuMhz: 0 }, 'host_profile.cpu_mhz'],
    [{ hostId: '' }, 'host_profile.host_id'],
  ])('rejects %p naming %s', (patch, field) => {
    try {
      validateHostProfile({ ...base, ...patch });
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).field).toBe(field);
    }
  });
});
