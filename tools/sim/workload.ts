import fs from 'node:fs';
import path from 'node:path';
import { parsePlanetLabTrace } from '@minicloud/domain-hypervisor';

/** The shared data folder: ../shared/data relative to the repo root (this file is tools/sim/). */
export const SHARED_DATA_DIR = path.resolve(__dirname, '..', '..', '..', 'shared', 'data');

/** Reads every trace file of a PlanetLab day folder, sorted by file name (the reference's order). */
export function loadPlanetLabDay(dir: string): number[][] {
  const files = fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
  return files.map((f) => parsePlanetLabTrace(fs.readFileSync(path.join(dir, f), 'utf8')));
}

/** One row of planetlab-consolidation.csv. */
export interface ReferenceRow {
  day: string;
  policy: string;
  energyKwh: number;
  migrations: number;
  slatahPct: number;
  pdmPct: number;
  slavPct: number;
  esv1e3: number;
  hostShutdowns: number;
}

/** Parses ../shared/data/cloudsim-reference/planetlab-consolidation.csv. */
export function loadReference(file = path.join(SHARED_DATA_DIR, 'cloudsim-reference', 'planetlab-consolidation.csv')): ReferenceRow[] {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const cols = header.split(',');
  const at = (r: string[], c: string) => r[cols.indexOf(c)];
  return lines.map((l) => l.split(',')).map((r) => ({
    day: at(r, 'day'), policy: at(r, 'policy'), energyKwh: Number(at(r, 'energy_kwh')), migrations: Number(at(r, 'migrations')),
    slatahPct: Number(at(r, 'slatah_pct')), pdmPct: Number(at(r, 'pdm_pct')), slavPct: Number(at(r, 'slav_pct')),
    esv1e3: Number(at(r, 'esv_1e-3')), hostShutdowns: Number(at(r, 'host_shutdowns')),
  }));
}
