import { InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * A host power model in the SPECpower_ssj2008 shape: measured wall power at 0 %, 10 %, ..., 100 %
 * CPU load (11 values, watts), linear in between. This is CloudSim's `PowerModelSpecPower`
 * (org.cloudbus.cloudsim.power.models), which Beloglazov & Buyya (CCPE 2012) use for their hosts.
 */
export interface PowerModel {
  /** Catalog name, e.g. "hp-proliant-ml110-g4". */
  readonly name: string;
  /** Watts at 0, 10, ..., 100 % CPU utilisation: exactly 11 finite, non-negative values. */
  readonly wattsAtLoadDecile: readonly number[];
  /** Where the numbers come from (a published result, or "illustrative" when made up). */
  readonly source: string;
}

/** Number of points of a SPECpower table (0 %, 10 %, ..., 100 %). */
export const SPECPOWER_POINTS = 11;

/**
 * Builds a validated power model.
 * @throws InvalidArgumentError (field `power_model.watts_at_load_decile`) unless there are exactly 11
 *   finite values >= 0.
 */
export function specPowerModel(name: string, wattsAtLoadDecile: readonly number[], source: string): PowerModel {
  const field = 'power_model.watts_at_load_decile';
  if (wattsAtLoadDecile.length !== SPECPOWER_POINTS) {
    throw new InvalidArgumentError(field, `needs ${SPECPOWER_POINTS} values (0..100 % load), got ${wattsAtLoadDecile.length}`);
  }
  wattsAtLoadDecile.forEach((w, i) => {
    if (!Number.isFinite(w) || w < 0) throw new InvalidArgumentError(`${field}[${i}]`, `must be a finite number >= 0, got ${w}`);
  });
  return { name, wattsAtLoadDecile: Object.freeze([...wattsAtLoadDecile]), source };
}

/**
 * HP ProLiant ML110 G4 (1 x Intel Xeon 3040, 2 cores x 1860 MHz, 4 GB): SPECpower_ssj2008 result
 * (http://www.spec.org/power_ssj2008/results/res2011q1/power_ssj2008-20110127-00342.html), as
 * coded in CloudSim's `PowerModelSpecPowerHpProLiantMl110G4Xeon3040`.
 */
export const HP_PROLIANT_ML110_G4_POWER: PowerModel = specPowerModel(
  'hp-proliant-ml110-g4',
  [86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117],
  'SPECpower_ssj2008 HP ProLiant ML110 G4 (Xeon 3040); CloudSim PowerModelSpecPowerHpProLiantMl110G4Xeon3040',
);

/**
 * HP ProLiant ML110 G5 (1 x Intel Xeon 3075, 2 cores x 2660 MHz, 4 GB): SPECpower_ssj2008 result
 * (http://www.spec.org/power_ssj2008/results/res2011q1/power_ssj2008-20110124-00339.html), as
 * coded in CloudSim's `PowerModelSpecPowerHpProLiantMl110G5Xeon3075`.
 */
export const HP_PROLIANT_ML110_G5_POWER: PowerModel = specPowerModel(
  'hp-proliant-ml110-g5',
  [93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135],
  'SPECpower_ssj2008 HP ProLiant ML110 G5 (Xeon 3075); CloudSim PowerModelSpecPowerHpProLiantMl110G5Xeon3075',
);

/**
 * Wall power of a host at a CPU utilisation, by linear interpolation between the two neighbouring
 * deciles of the table (CloudSim `PowerModelSpecPower.getPower`).
 * @param utilizationRatio host CPU utilisation in [0, 1]
 * @returns watts
 * @throws InvalidArgumentError (field `utilization_ratio`) outside [0, 1] or not a number.
 */
export function powerWatts(model: PowerModel, utilizationRatio: number): number {
  if (!(utilizationRatio >= 0 && utilizationRatio <= 1)) {
    throw new InvalidArgumentError('utilization_ratio', `must be in [0, 1], got ${utilizationRatio}`);
  }
  const w = model.wattsAtLoadDecile;
  const x = utilizationRatio * 10;
  const lower = Math.min(Math.floor(x), SPECPOWER_POINTS - 2);
  return w[lower] + (w[lower + 1] - w[lower]) * (x - lower);
}
