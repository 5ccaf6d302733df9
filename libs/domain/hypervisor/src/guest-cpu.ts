import { InvalidArgumentError } from '@minicloud/domain-errors';
import { CORE2_FLAGS, ICELAKE_SP_FLAGS, SKYLAKE_SP_FLAGS, ZEN3_FLAGS } from './host-profile';

/**
 * How the guest's virtual CPU is defined, as libvirt's `<cpu mode=...>` (Nova's `[libvirt] cpu_mode`):
 * - `host-passthrough`: the host CPU exactly (model, stepping, every flag); the guest may only move to a
 *   host with the same CPU model (QEMU's docs: live migration is unsafe across different CPUs);
 * - `host-model`: libvirt copies the host's CPU definition at boot and carries it along a migration, so
 *   the guest may move to any host whose flags are a superset of the guest's;
 * - `custom`: a named QEMU model (`hw:cpu_model`), whose flags every host the guest boots or moves on
 *   must have.
 */
export type GuestCpuMode = 'host-passthrough' | 'host-model' | 'custom';

/** The CPU the guest sees, fixed at boot and kept across live migrations (Nova's instance.vcpu_model). */
export interface GuestCpu {
  readonly mode: GuestCpuMode;
  /** The host's model name (host-passthrough, host-model) or the named model (custom). */
  readonly model: string;
  /** The flags the guest was given (as /proc/cpuinfo names them). */
  readonly flags: readonly string[];
}

/** What a flavor or image asks of the guest CPU; `model` only for `custom`. */
export interface GuestCpuRequest {
  readonly mode: GuestCpuMode;
  readonly model?: string;
}

/** The CPU facts of a host a check needs (HostProfile's). */
export interface HostCpu {
  readonly cpuModel: string;
  readonly cpuFlags: readonly string[];
}

/** Nova's default `[libvirt] cpu_mode` for virt_type kvm. */
export const DEFAULT_GUEST_CPU_MODE: GuestCpuMode = 'host-model';

const MODES: ReadonlySet<string> = new Set<GuestCpuMode>(['host-passthrough', 'host-model', 'custom']);

/** Flags only a host exposes (virtualisation extensions): QEMU's named models leave them out. */
const HOST_ONLY_FLAGS: ReadonlySet<string> = new Set(['vmx', 'svm', 'ept', 'npt']);
const named = (flags: readonly string[]): readonly string[] => Object.freeze(flags.filter((f) => !HOST_ONLY_FLAGS.has(f)));

/**
 * QEMU's named x86 CPU models for `custom` (`qemu-system-x86_64 -cpu help`), with the flags of the
 * catalog's host generations they correspond to (reduced to the flags minicloud models).
 */
export const NAMED_CPU_MODELS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  Penryn: named(CORE2_FLAGS),
  'Skylake-Server': named(SKYLAKE_SP_FLAGS),
  'Icelake-Server': named(ICELAKE_SP_FLAGS),
  'EPYC-Milan': named(ZEN3_FLAGS),
});

/**
 * The guest CPU a flavor and image ask for. The flavor extra spec `hw:cpu_mode` and the image property
 * `hw_cpu_mode` choose the mode per instance (upstream Nova sets it per compute host with
 * `[libvirt] cpu_mode`; the per-instance keys are those of Nova distributions such as StarlingX);
 * `hw:cpu_model` / `hw_cpu_model` name the model of `custom`. Unset: {@link DEFAULT_GUEST_CPU_MODE}.
 * @throws InvalidArgumentError naming the key for an unknown mode or model, a model without mode
 *   custom, custom without a model, or a flavor and image that disagree
 */
export function guestCpuRequestOf(extraSpecs: Readonly<Record<string, string>>, imageProperties: Readonly<Record<string, string>>): GuestCpuRequest {
  const mode = agreed('hw:cpu_mode', extraSpecs['hw:cpu_mode'], 'hw_cpu_mode', imageProperties['hw_cpu_mode']);
  const model = agreed('hw:cpu_model', extraSpecs['hw:cpu_model'], 'hw_cpu_model', imageProperties['hw_cpu_model']);
  if (mode !== undefined && !MODES.has(mode)) throw new InvalidArgumentError('hw:cpu_mode', `must be one of host-passthrough, host-model, custom; got ${mode}`);
  const m = (mode ?? (model !== undefined ? 'custom' : DEFAULT_GUEST_CPU_MODE)) as GuestCpuMode;
  if (m !== 'custom') {
    if (model !== undefined) throw new InvalidArgumentError('hw:cpu_model', `is only valid with hw:cpu_mode custom, not ${m}`);
    return { mode: m };
  }
  if (model === undefined) throw new InvalidArgumentError('hw:cpu_model', 'must name a CPU model when hw:cpu_mode is custom');
  if (!Object.prototype.hasOwnProperty.call(NAMED_CPU_MODELS, model)) {
    throw new InvalidArgumentError('hw:cpu_model', `unknown CPU model ${model}; known: ${Object.keys(NAMED_CPU_MODELS).join(', ')}`);
  }
  return { mode: 'custom', model };
}

/** Flags of `wanted` that `host` lacks, in `wanted`'s order. */
export function missingCpuFlags(wanted: readonly string[], host: readonly string[]): string[] {
  const have = new Set(host);
  return wanted.filter((f) => !have.has(f));
}

/**
 * Why `host` cannot boot a guest asking for `req` (a custom model whose flags the host lacks, as
 * libvirt refuses to start it), or undefined when it can.
 */
export function cannotBootGuestCpu(req: GuestCpuRequest, host: HostCpu): string | undefined {
  if (req.mode !== 'custom' || !req.model) return undefined;
  const missing = missingCpuFlags(NAMED_CPU_MODELS[req.model] ?? [], host.cpuFlags);
  return missing.length ? `CPU model ${req.model} needs flags the host's ${host.cpuModel} lacks: ${missing.join(', ')}` : undefined;
}

/**
 * The guest CPU of a guest booted on `host` with `req`: the host's model and flags for host-passthrough
 * and host-model, the named model's for custom.
 * @throws InvalidArgumentError ('hw:cpu_model') for a custom model the host cannot provide
 */
export function guestCpuOnHost(req: GuestCpuRequest, host: HostCpu): GuestCpu {
  const refused = cannotBootGuestCpu(req, host);
  if (refused) throw new InvalidArgumentError('hw:cpu_model', refused);
  if (req.mode === 'custom') return { mode: 'custom', model: req.model!, flags: NAMED_CPU_MODELS[req.model!] };
  return { mode: req.mode, model: host.cpuModel, flags: [...host.cpuFlags] };
}

/**
 * Why a running guest with CPU `guest` cannot live-migrate to `dest`, or undefined when it can: the check
 * Nova's libvirt driver makes on the destination (compareCPU) and vSphere's EVC makes per cluster.
 * host-passthrough needs the same CPU model (and every flag); host-model and custom need the guest's
 * flags to be a subset of the destination's.
 */
export function cannotMigrateGuestCpu(guest: GuestCpu, dest: HostCpu): string | undefined {
  if (guest.mode === 'host-passthrough' && guest.model !== dest.cpuModel) {
    return `the guest's host-passthrough CPU is a ${guest.model}; the destination's is a ${dest.cpuModel}`;
  }
  const missing = missingCpuFlags(guest.flags, dest.cpuFlags);
  return missing.length ? `the destination's ${dest.cpuModel} lacks CPU flags the guest uses: ${missing.join(', ')}` : undefined;
}

function agreed(flavorKey: string, fromFlavor: string | undefined, imageKey: string, fromImage: string | undefined): string | undefined {
  if (fromFlavor !== undefined && fromImage !== undefined && fromFlavor !== fromImage) {
    throw new InvalidArgumentError(flavorKey, `the flavor's ${fromFlavor} conflicts with the image's ${imageKey} ${fromImage}`);
  }
  return fromFlavor ?? fromImage;
}
