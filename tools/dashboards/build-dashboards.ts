/**
 * Writes deploy/grafana/dashboards/<uid>.json from tools/dashboards/dashboards.ts.
 *   npx tsx tools/dashboards/build-dashboards.ts          # write
 *   npx tsx tools/dashboards/build-dashboards.ts --check  # exit 1 when a committed file is stale
 */
import fs from 'node:fs';
import path from 'node:path';
import { DASHBOARDS } from './dashboards';
import { toGrafanaJson } from './grafana-json';

export const DASHBOARD_DIR = path.resolve(__dirname, '../../deploy/grafana/dashboards');

/** The files the dashboards render to: absolute path -> JSON text (2-space, trailing newline). */
export function renderedDashboards(): Map<string, string> {
  return new Map(DASHBOARDS.map((d) => [path.join(DASHBOARD_DIR, `${d.uid}.json`), JSON.stringify(toGrafanaJson(d), null, 2) + '\n']));
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, text] of renderedDashboards()) {
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (current === text) continue;
    if (check) {
      console.error(`stale: ${path.relative(process.cwd(), file)}`);
      stale++;
    } else {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
  }
  if (stale) {
    console.error('run: npx tsx tools/dashboards/build-dashboards.ts');
    process.exit(1);
  }
}
