import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { cloudSimPlanetLabScenario, parsePolicyName, simulateConsolidation, type ConsolidationResult } from '@minicloud/domain-consolidation';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { parsePlanetLabTrace } from '@minicloud/domain-hypervisor';
import { parsePositiveInteger } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import type { OutputOptions } from '../output';

/** Default workload: the shared PlanetLab day 20110303 (../shared/data relative to the repo root). */
export const DEFAULT_WORKLOAD_DIR = path.resolve(__dirname, '..', '..', '..', '..', '..', 'shared', 'data', 'planetlab', '20110303');

interface SimOptions extends OutputOptions {
  workload: string;
  policy: string;
  hosts: number;
}

/**
 * Reads a PlanetLab day folder: every file is one VM trace, taken in file-name order.
 * @throws InvalidArgumentError (`--workload`) when the folder is missing or holds no file.
 */
export function readWorkloadDir(dir: string): number[][] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new InvalidArgumentError('--workload', `not a directory: ${dir}`);
  const files = fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
  if (files.length === 0) throw new InvalidArgumentError('--workload', `no trace file in ${dir}`);
  return files.map((f) => parsePlanetLabTrace(fs.readFileSync(path.join(dir, f), 'utf8')));
}

/** The figures `sim consolidation` prints (percentages as CloudSim's Helper.printResults). */
export function simResultView(policy: string, vms: number, r: ConsolidationResult): Record<string, unknown> {
  return {
    policy,
    vms,
    energy_kwh: r.energyKwh.toFixed(2),
    migrations: r.migrations,
    slatah_pct: (r.slatahRatio * 100).toFixed(2),
    pdm_pct: (r.pdmRatio * 100).toFixed(2),
    slav_pct: (r.slavRatio * 100).toFixed(5),
    'esv_1e-3': (r.esv * 1000).toFixed(3),
    host_shutdowns: r.hostShutdowns,
    mean_time_before_shutdown_s: r.meanTimeBeforeShutdownSeconds.toFixed(2),
    mean_time_before_migration_s: r.meanTimeBeforeMigrationSeconds.toFixed(2),
  };
}

/** `sim consolidation`: the offline consolidation simulator (no services; virtual time). */
export function registerSimCommands(program: Command, ctx: CommandContext): void {
  const cmd = program.command('sim').description('offline simulators (virtual time, no cloud needed)');
  withOutputOptions(
    cmd
      .command('consolidation')
      .description('replay a PlanetLab day on the CloudSim setup (800 ML110 G4/G5 hosts) under a consolidation policy')
      .option('--workload <dir>', 'folder of PlanetLab traces (one file per VM)', DEFAULT_WORKLOAD_DIR)
      .option('--policy <name>', 'dvfs, or <thr|iqr|mad|lr|lrr>-<mmt|mu|rs|mc>-<param>, e.g. lr-mmt-1.2', 'lr-mmt-1.2')
      .option('--hosts <n>', 'number of hosts', (v) => parsePositiveInteger('--hosts', v), 800),
  ).action((o: SimOptions) => {
    const traces = readWorkloadDir(o.workload);
    const result = simulateConsolidation(cloudSimPlanetLabScenario(traces, o.hosts), parsePolicyName(o.policy));
    ctx.printShow(simResultView(o.policy, traces.length, result), o);
  });
}
