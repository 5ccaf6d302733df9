import { ResourceExhaustedError } from '@minicloud/domain-errors';
import { isHostDown } from '@minicloud/domain-compute';
import type { AllocationStore } from '../store/allocation-store';
import type { HostStore } from '../store/host-store';
import { checkAdmission, type AdmissionHost, type AdmissionRequest } from './admission-control';

/**
 * HA admission control at boot time (I/O around the pure `checkAdmission`): usable hosts are those
 * not down and not in maintenance. A disabled host still counts (disabling only stops new boots
 * there; its VMs and capacity are in the cluster, as a vSphere host with DRS off). Capacity per class
 * = (total - reserved) * allocation_ratio.
 */
export class AdmissionGuard {
  constructor(private readonly d: { hosts: HostStore; allocations: AllocationStore; hostFailuresToTolerate: number }) {}

  /**
   * @throws ResourceExhaustedError "admission control: <class>: <used> used + <n> requested > <usable>
   *   usable while keeping <k> for <N> host failure(s)" (reason admission_control) when booting `count`
   *   instances of `req` would leave too little capacity to restart every VM after N host failures
   */
  async check(req: AdmissionRequest, count: number): Promise<void> {
    if (this.d.hostFailuresToTolerate <= 0) return;
    const hosts: AdmissionHost[] = [];
    for (const h of await this.d.hosts.list()) {
      if (isHostDown(h.state) || h.state === 'maintenance') continue;
      const a = await this.d.allocations.get(h.hostId);
      hosts.push({
        hostId: h.hostId,
        vcpusCapacity: h.vcpusTotal * h.cpuAllocationRatio,
        ramMbCapacity: (h.ramMbTotal - h.ramMbReserved) * h.ramAllocationRatio,
        diskGbCapacity: h.diskGbTotal * h.diskAllocationRatio,
        vcpusUsed: a.vcpus,
        ramMbUsed: a.ramMb,
        diskGbUsed: a.diskGb,
      });
    }
    const r = checkAdmission(hosts, req, count, this.d.hostFailuresToTolerate);
    if (!r.ok) throw new ResourceExhaustedError(`admission control: ${r.reason}`, 'admission_control');
  }
}
