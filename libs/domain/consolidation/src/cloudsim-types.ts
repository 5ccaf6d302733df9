import type { PowerModel } from '@minicloud/domain-hypervisor';
import type { OverloadDetector } from './overload-detection';
import type { VmSelectionPolicy } from './vm-selection';

/** A host of the simulated datacenter (CloudSim PowerHostUtilizationHistory). */
export interface SimHostSpec {
  readonly pes: number;
  readonly mipsPerPe: number;
  readonly ramMb: number;
  /** NIC, Mbit/s. */
  readonly bwMbps: number;
  readonly powerModel: PowerModel;
}

/** A VM (CloudSim PowerVm, 1 vCPU) with its CPU trace. */
export interface SimVmSpec {
  readonly mips: number;
  readonly ramMb: number;
  readonly bwMbps: number;
  /** 288 PlanetLab samples, integer percent (one per 300 s). */
  readonly samplesPercent: readonly number[];
}

/** Consolidation policy: detector + selection (PABFD placement), or `dvfs` (first fit, no migration). */
export type ConsolidationPolicy = { kind: 'dvfs' } | { kind: 'migration'; detector: OverloadDetector; selection: VmSelectionPolicy };

/** Scenario: hosts, VMs, timing. */
export interface DatacenterScenario {
  readonly hosts: readonly SimHostSpec[];
  readonly vms: readonly SimVmSpec[];
  /** Default 300 s (CloudSim Constants.SCHEDULING_INTERVAL). */
  readonly schedulingIntervalSeconds?: number;
  /** Default 86,400 s (Constants.SIMULATION_LIMIT). */
  readonly simulationLimitSeconds?: number;
}

/** What Helper.printResults prints, as ratios (multiply by 100 for percent). */
export interface ConsolidationResult {
  readonly energyKwh: number;
  readonly migrations: number;
  /** SLA time per active host (SLATAH), ratio. */
  readonly slatahRatio: number;
  /** Performance degradation due to migration (PDM), ratio. */
  readonly pdmRatio: number;
  /** SLATAH x PDM. */
  readonly slavRatio: number;
  /** energy (kWh) x SLAV. */
  readonly esv: number;
  readonly overallSlavRatio: number;
  readonly averageSlavRatio: number;
  readonly hostShutdowns: number;
  readonly meanTimeBeforeShutdownSeconds: number;
  readonly meanTimeBeforeMigrationSeconds: number;
  /** VMs removed because their demand reached 0 (CloudSim "completed VMs"). */
  readonly vmsRemoved: number;
  readonly lastClockSeconds: number;
}
