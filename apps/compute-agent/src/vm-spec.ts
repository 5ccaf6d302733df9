import type { GuestCpu, VmControls, VmFlavor, WorkloadSpec } from '@minicloud/domain-hypervisor';
import type { ImageWant } from './image-store';
import type { GuestSpec } from './guest/guest-spec';

/** What the host needs to build one VM (the domain view of agent.v1.InstanceSpec). */
export interface VmSpec {
  readonly instanceId: string;
  readonly flavor: VmFlavor;
  /** Base image; undefined for a VM that boots from a volume (no fetch). */
  readonly image?: ImageWant;
  readonly workload: WorkloadSpec;
  readonly portIds: readonly string[];
  readonly volumeIds: readonly string[];
  /** CPU shares/reservation/limit and disk IO limits (flavor extra specs `quota:*`, or the spec's own fields). */
  readonly controls?: VmControls;
  /** The guest's config drive and virtual hardware (cloud-init and the console log); undefined: no guest modelled. */
  readonly guest?: GuestSpec;
  /** The guest's virtual CPU (fixed at its boot); undefined: the host's own (host-model). */
  readonly guestCpu?: GuestCpu;
}
