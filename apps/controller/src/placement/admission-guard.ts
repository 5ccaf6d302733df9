import { ResourceExhaustedError } from '@minicloud/domain-errors';
import { isHostDown } from '@minicloud/domain-compute';
import type { Placement } from './placement';
import { admissionHostOf, checkAdmission, type AdmissionRequest } from './admission-control';

/**
 * HA admission control at boot time (I/O around the pure `checkAdmission`): usable hosts are those
 * not down and not in maintenance (their recorded state, as the scheduler's host-state cache holds it). A disabled host still counts (disabling only stops new boots
 * there; its VMs and capacity are in the cluster, as a vSphere host with DRS off). Capacity is the
 * scheduler's HostState read through Placement (aggregate allocation-ratio overrides included), so
 * admission, placement and the claim agree on what a host holds.
 */
export class AdmissionGuard {
  constructor(private readonly d: { placement: Pick<Placement, 'hostStates' | 'hostRecords'>; hostFailuresToTolerate: number }) {}

  /**
   * @throws ResourceExhaustedError "admission control: <class>: <used> used + <n> requested > <usable>
   *   usable while keeping <k> for <N> host failure(s)" (reason admission_control) when booting `count`
   *   instances of `req` would leave too little capacity to restart every VM after N host failures
   */
  async check(req: AdmissionRequest, count: number): Promise<void> {
    if (this.d.hostFailuresToTolerate <= 0) return;
    // Both from the scheduler's host-state cache: no per-host Redis reads per create.
    const [records, states] = await Promise.all([this.d.placement.hostRecords(), this.d.placement.hostStates()]);
    const usable = new Set(records.filter((h) => !isHostDown(h.state) && h.state !== 'maintenance').map((h) => h.hostId));
    const hosts = states.filter((h) => usable.has(h.hostId)).map(admissionHostOf);
    const r = checkAdmission(hosts, req, count, this.d.hostFailuresToTolerate);
    if (!r.ok) throw new ResourceExhaustedError(`admission control: ${r.reason}`, 'admission_control');
  }
}
