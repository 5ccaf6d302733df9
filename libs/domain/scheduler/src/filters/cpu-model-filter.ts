import { cannotBootGuestCpu, cannotMigrateGuestCpu, guestCpuRequestOf } from '@minicloud/domain-hypervisor';
import { HostFilter, PASS, reject } from '../host-filter';

/**
 * The guest CPU's compatibility with the host (domain-hypervisor's guest-cpu rules). A live
 * migration (`spec.guestCpu` set) passes only hosts the running guest's CPU can move to: the same
 * model for host-passthrough, a superset of its flags otherwise, as Nova's live-migration task asks
 * each candidate destination (libvirt's compareCPU) and vSphere's EVC guarantees per cluster. A new
 * boot with `hw:cpu_mode=custom` passes only hosts with every flag of the named model (Nova's
 * `[libvirt] cpu_models` and the host's CPU traits). A host with no flags known has none.
 */
export const cpuModelFilter: HostFilter = {
  name: 'CpuModelFilter',
  summary: { one: 'has an incompatible CPU', many: 'have an incompatible CPU' },
  hostPasses(host, spec) {
    const cpu = { cpuModel: host.cpuModel, cpuFlags: host.cpuFlags ?? [] };
    if (spec.guestCpu) {
      const why = cannotMigrateGuestCpu(spec.guestCpu, cpu);
      return why ? reject(why) : PASS;
    }
    let why: string | undefined;
    try {
      why = cannotBootGuestCpu(guestCpuRequestOf(spec.flavor.extraSpecs, spec.image.properties), cpu);
    } catch (e) {
      why = e instanceof Error ? e.message : String(e);
    }
    return why ? reject(why) : PASS;
  },
};
