import { HP_PROLIANT_ML110_G4_POWER, HP_PROLIANT_ML110_G5_POWER } from '@minicloud/domain-hypervisor';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { DatacenterScenario, SimHostSpec, SimVmSpec } from './cloudsim-types';

/**
 * CloudSim examples/power/Constants.java: VM types (MIPS, RAM MB), 1 vCPU, 100 Mbit/s each, and the
 * two HP ProLiant ML110 host types (2 cores, 4096 MB, 1 Gbit/s).
 */
export const CLOUDSIM_VM_TYPES: readonly { mips: number; ramMb: number }[] = [
  { mips: 2500, ramMb: 870 },
  { mips: 2000, ramMb: 1740 },
  { mips: 1000, ramMb: 1740 },
  { mips: 500, ramMb: 613 },
];
export const CLOUDSIM_HOST_TYPES: readonly SimHostSpec[] = [
  { pes: 2, mipsPerPe: 1860, ramMb: 4096, bwMbps: 1000, powerModel: HP_PROLIANT_ML110_G4_POWER },
  { pes: 2, mipsPerPe: 2660, ramMb: 4096, bwMbps: 1000, powerModel: HP_PROLIANT_ML110_G5_POWER },
];
/** PlanetLabConstants.NUMBER_OF_HOSTS. */
export const CLOUDSIM_PLANETLAB_HOSTS = 800;

/**
 * The README's default scenario (Helper.createHostList / createVmList): host i has type i % 2; VM i
 * takes trace i (callers pass traces sorted by file name) and type floor(i / ceil(N / 4)).
 * @throws InvalidArgumentError (`traces`) when there is no trace, (`hosts`) when hosts < 1.
 */
export function cloudSimPlanetLabScenario(traces: readonly (readonly number[])[], hosts = CLOUDSIM_PLANETLAB_HOSTS): DatacenterScenario {
  if (traces.length === 0) throw new InvalidArgumentError('traces', 'needs at least one trace');
  if (!Number.isInteger(hosts) || hosts < 1) throw new InvalidArgumentError('hosts', `must be an integer >= 1, got ${hosts}`);
  const perType = Math.ceil(traces.length / CLOUDSIM_VM_TYPES.length);
  const vms: SimVmSpec[] = traces.map((samplesPercent, i) => {
    const t = CLOUDSIM_VM_TYPES[Math.floor(i / perType)];
    return { mips: t.mips, ramMb: t.ramMb, bwMbps: 100, samplesPercent };
  });
  return { hosts: Array.from({ length: hosts }, (_, i) => CLOUDSIM_HOST_TYPES[i % 2]), vms, schedulingIntervalSeconds: 300, simulationLimitSeconds: 86_400 };
}
