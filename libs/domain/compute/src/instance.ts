import type { FtPair } from '@minicloud/domain-ft';
/**
 * The controller's instance record (Nova's `Instance` object), kept as JSON in Redis under
 * `mc:controller:instance:<id>`. States use Nova's lowercase names; `taskState` null means no task.
 */
export type VmState =
  | 'building'
  | 'active'
  | 'stopped'
  | 'paused'
  | 'suspended'
  | 'shelved'
  | 'shelved_offloaded'
  | 'rescued'
  | 'resized'
  | 'error'
  | 'deleted'
  | 'soft_deleted';

export type TaskState =
  | 'scheduling'
  | 'networking'
  | 'block_device_mapping'
  | 'spawning'
  | 'powering_off'
  | 'powering_on'
  | 'rebooting'
  | 'rebooting_hard'
  | 'pausing'
  | 'unpausing'
  | 'suspending'
  | 'resuming'
  | 'resize_prep'
  | 'resize_migrating'
  | 'resize_finish'
  | 'resize_reverting'
  | 'resize_confirming'
  | 'rebuilding'
  | 'migrating'
  | 'deleting'
  | 'shelving'
  | 'shelving_offloading'
  | 'unshelving'
  | 'rescuing'
  | 'unrescuing'
  | 'image_snapshot'
  | 'rebuild_spawning'
  | 'evacuating';

/** What the hypervisor reports (Nova's power_state). */
export type PowerState = 'nostate' | 'running' | 'paused' | 'shutdown' | 'crashed' | 'suspended';

/** A flavor as stored (and copied into each instance, as Nova's instance.flavor). */
export interface FlavorRecord {
  id: string;
  name: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  ephemeralGb: number;
  swapMb: number;
  isPublic: boolean;
  extraSpecs: Record<string, string>;
  /** Nova's rxtx_factor (> 0); absent in flavors stored before it was kept, which means 1.0. */
  rxtxFactor?: number;
}

/** A NIC the user asked for. */
export interface RequestedNetwork {
  networkId: string;
  networkName: string;
  segmentationId: number;
  mtu: number;
  fixedIp?: string;
}

/** A port bound to the instance: created by the controller (boot, attach by network) or brought by the user (attach by port). */
export interface InstancePort {
  portId: string;
  networkId: string;
  networkName: string;
  macAddress: string;
  ipAddresses: string[];
  segmentationId: number;
  mtu: number;
  /**
   * The user brought the port (interface attach by port_id): a detach or the server's delete unbinds
   * it and clears its device_id instead of deleting it (Nova's preserve_on_delete). Absent: ours.
   */
  preserveOnDelete?: boolean;
  /**
   * Set (to when it began, ms) while an interface attach runs: the entry reserves the port on the
   * instance before it is bound and plugged, so a concurrent delete knows of it; not shown as an address.
   */
  attachingSinceMs?: number;
}

/** Image facts the agent needs to fetch and verify the image. */
export interface InstanceImage {
  id: string;
  diskFormat: string;
  sizeBytes: number;
  virtualSizeBytes: number;
  sha256: string;
  properties: Record<string, string>;
}

export interface InstanceFault {
  /** gRPC status name, e.g. RESOURCE_EXHAUSTED. */
  code: string;
  message: string;
  details?: string;
}

export interface InstanceRecord {
  id: string;
  name: string;
  projectId: string;
  userId: string;
  flavor: FlavorRecord;
  image: InstanceImage;
  requestedNetworks: RequestedNetwork[];
  /**
   * Security group ids the create resolved from its `security_groups`, given to each port the build
   * creates; absent or empty: the network service's default group of the project.
   */
  securityGroupIds?: string[];
  ports: InstancePort[];
  vmState: VmState;
  taskState: TaskState | null;
  powerState: PowerState;
  /** Host holding the instance's allocation ('' before placement). */
  hostId: string;
  availabilityZone: string;
  metadata: Record<string, string>;
  tags: string[];
  fault?: InstanceFault;
  haEnabled: boolean;
  restartPriority: string;
  /**
   * Fault tolerance (docs/fault-tolerance.md): the FT pair's state, generation and secondary's host.
   * Absent: never enabled (as `not_protected`).
   */
  ft?: FtPair;
  reservationId: string;
  /** The create's idempotency key, if any (its Redis key is removed with the last instance). */
  clientToken?: string;
  /** Name of the SSH key pair the server was created with ('' for none), as Nova's instance.key_name. */
  keyName: string;
  /**
   * The OpenSSH public key of that pair, copied at create (Nova's instance.key_data): what the guest
   * installs, unchanged when the pair is later deleted or replaced. Absent without a key.
   */
  keyData?: string;
  /** Nova's accessIPv4/accessIPv6: addresses the owner sets as the server's public ones (stored only). */
  accessIpV4?: string;
  accessIpV6?: string;
  userData: string;
  /**
   * The guest root password a create, rebuild, rescue or evacuate asked for (Nova's adminPass), held
   * only until the spawn (or the rescue's password command) is sent and dropped whenever the task
   * ends: Nova never stores it. Never in a view, a log or the metadata API. Absent: none.
   */
  adminPass?: string;
  createdAtMs: number;
  updatedAtMs: number;
  launchedAtMs?: number;
  /** When the current task_state was entered (resync finds stuck tasks). */
  taskStartedAtMs: number;
  /** Request id of the action in progress (instance actions log). */
  actionRequestId?: string;
  /**
   * Hosts whose agent refused this first build (Nova's RequestSpec retry.hosts): a reschedule skips
   * them; its length counts the attempts against SCHEDULER_MAX_ATTEMPTS.
   */
  retryHostIds?: string[];
  /** Ports/claim still to be released after a failed build (retried by the worker). */
  pendingCleanup?: boolean;
  /** Nova's instance lock; `lockedByAdmin` keeps a non-admin from unlocking an admin's lock. */
  locked?: boolean;
  lockedReason?: string;
  lockedByAdmin?: boolean;
  /** Server group the instance was created in (scheduler hint `group`). */
  serverGroupId?: string;
  /** A resize in progress or awaiting confirm/revert (Nova's Migration record, reduced). */
  resize?: ResizeInfo;
  /** A rebuild in progress started from vm_state stopped: Nova stops the rebuilt guest again. */
  rebuildFromStopped?: boolean;
  /** Image being written by a create_image or a shelve in progress. */
  snapshotImageId?: string;
  /**
   * Nova's system_metadata shelved_image_id: the snapshot (`<server name>-shelved`, in the server's
   * project) a shelve of an image-backed server took. Unshelve deletes it once the guest runs again,
   * as does deleting the shelved server. Volume-backed servers shelve without one.
   */
  shelvedImageId?: string;
  /** Quota (instances 1, cores, ram_mb) committed in identity for this instance; released on delete. */
  quota?: { cores: number; ramMb: number };
  /** Volumes attached or being attached (Nova's block device mappings of destination volume); absent = none. */
  volumesAttached?: InstanceVolume[];
  /**
   * The CPU the guest was given at its last boot (Nova's instance.vcpu_model; domain-hypervisor's
   * GuestCpu): set by every spawn from the flavor's/image's CPU mode and the host's CPU, kept across
   * live migrations (which it constrains). Absent: booted before it was recorded (taken as host-model
   * on its current host).
   */
  guestCpu?: { mode: 'host-passthrough' | 'host-model' | 'custom'; model: string; flags: string[] };
}

/**
 * A volume attachment as the instance records it. `status` attaching: reserved on the instance
 * (device name taken) while the Cinder-style sequence runs; attached: the volume service says in-use
 * and the agent has the disk. `attachmentId` is the volume service's attachment ('' before step 1).
 */
export interface InstanceVolume {
  volumeId: string;
  deviceName: string;
  attachmentId: string;
  status: 'attaching' | 'attached';
  deleteOnTermination: boolean;
  /** When the attach began (an `attaching` entry older than the stale limit may be detached). */
  startedAtMs: number;
  /** The VolumeRef sent to the agent (size and QoS limits; 0 = unlimited), re-sent on a respawn. */
  sizeGb: number;
  readIopsLimit: number;
  writeIopsLimit: number;
  totalBytesSecLimit: number;
  /** Boot from volume (Nova's BDM boot_index): 0 = the root disk /dev/vda; absent = not bootable. */
  bootIndex?: number;
  /**
   * The build created this volume (BDM source image/snapshot/blank -> volume): a build that fails
   * before the instance ever ran deletes it (rollback), whatever delete_on_termination says.
   */
  createdByBuild?: boolean;
  /** A BDM whose volume the build still has to create (volumeId '' until then): Nova's source_type and uuid. */
  bdmSource?: { sourceType: 'image' | 'snapshot' | 'blank'; uuid: string };
}

/**
 * A cold migration/resize: the new flavor is claimed on `destHostId` under the allocation key
 * `<instance>#resize`; the old allocation stays under the instance id on `sourceHostId` until
 * confirm (released) or revert (kept; the new one released).
 */
export interface ResizeInfo {
  migrationId: string;
  sourceHostId: string;
  destHostId: string;
  oldFlavor: FlavorRecord;
  newFlavor: FlavorRecord;
  /** Whether the guest was running before (it is powered on again after the resize). */
  wasRunning: boolean;
  /** Positive quota deltas reserved for the resize (released again on revert). */
  quotaDelta: { cores: number; ramMb: number };
  /** Revert: the VM was destroyed on the destination and is being spawned again on the source. */
  revertSpawning?: boolean;
}

/** True when the instance's root disk is a volume (boot from volume: no image on the host). */
export function isVolumeBacked(r: Pick<InstanceRecord, 'image' | 'volumesAttached'>): boolean {
  return !r.image.id || (r.volumesAttached ?? []).some((v) => v.bootIndex === 0);
}

/** Local disk (GB) the instance claims on a host for a flavor's `diskGb`: none when volume-backed (Nova). */
export function claimedDiskGb(r: Pick<InstanceRecord, 'image' | 'volumesAttached'>, flavorDiskGb: number): number {
  return isVolumeBacked(r) ? 0 : flavorDiskGb;
}
