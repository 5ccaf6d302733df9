/**
 * Draws a dashboard's panels from a running Prometheus to PNG (the README's pictures, without Grafana):
 *   npx tsx tools/dashboards/render-png.ts [--prometheus URL | --manifest .minicloud/cloud.json]
 *        [--dashboard minicloud-overview|all] [--minutes 10] [--out docs/img]
 * Each panel's queries are run with query_range (template variables = All), drawn as SVG by
 * svg-chart.ts and converted with `rsvg-convert` (Debian librsvg2-bin) or ImageMagick's `convert`.
 * Writes <out>/<uid>.png (and .svg beside it when conversion is impossible).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { DASHBOARDS, substituteVariables, type DashboardDef } from './dashboards';
import { renderDashboardSvg, type ChartPanel, type Series } from './svg-chart';

interface Matrix {
  status: string;
  error?: string;
  data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
}

/** Grafana's legend template: `{{label}}` replaced by the series' label value. */
export function legendOf(template: string, metric: Record<string, string>): string {
  if (!template) return Object.entries(metric).map(([k, v]) => `${k}=${v}`).join(', ') || 'value';
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k: string) => metric[k] ?? '');
}

/** Runs every query of `d` over [from, to] (unix s) with `step` seconds; one ChartPanel per panel. */
export async function fetchPanels(prometheusUrl: string, d: DashboardDef, from: number, to: number, step: number): Promise<ChartPanel[]> {
  const panels: ChartPanel[] = [];
  for (const p of d.panels) {
    const series: Series[] = [];
    for (const q of p.queries) {
      const body = new URLSearchParams({ query: substituteVariables(q.expr), start: String(from), end: String(to), step: String(step) });
      const res = (await (await fetch(`${prometheusUrl}/api/v1/query_range`, { method: 'POST', body })).json()) as Matrix;
      if (res.status !== 'success') throw new Error(`${d.title} › ${p.title}: ${res.error}`);
      for (const r of res.data.result) series.push({ label: legendOf(q.legend, r.metric), points: r.values.map(([t, v]) => [t, Number(v)]) });
    }
    panels.push({ title: p.title, unit: p.unit, series });
  }
  return panels;
}

/** SVG -> PNG with the first converter found; returns the tool used, or undefined when none worked. */
export function svgToPng(svgFile: string, pngFile: string): string | undefined {
  const tools: [string, string[]][] = [
    ['rsvg-convert', ['-o', pngFile, svgFile]],
    ['convert', [svgFile, pngFile]],
  ];
  for (const [cmd, args] of tools) {
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    if (r.status === 0 && fs.existsSync(pngFile) && fs.statSync(pngFile).size > 0) return cmd;
  }
  return undefined;
}

async function main() {
  const opts = new Command('render-png')
    .option('--prometheus <url>', 'Prometheus base URL')
    .option('--manifest <file>', "the bring-up's cloud.json (its prometheus_url)", '.minicloud/cloud.json')
    .option('--dashboard <uid>', 'dashboard uid, or "all"', 'minicloud-overview')
    .option('--minutes <n>', 'time range ending now', '10')
    .option('--out <dir>', 'output directory', path.resolve(__dirname, '../../docs/img'))
    .parse()
    .opts<{ prometheus?: string; manifest: string; dashboard: string; minutes: string; out: string }>();
  const url = opts.prometheus ?? JSON.parse(fs.readFileSync(opts.manifest, 'utf8')).prometheus_url;
  if (!url) throw new Error('no Prometheus URL: pass --prometheus, or start the cloud with --with-prometheus');
  const to = Math.floor(Date.now() / 1000);
  const from = to - Number(opts.minutes) * 60;
  const step = Math.max(1, Math.round((to - from) / 240));
  const chosen = opts.dashboard === 'all' ? DASHBOARDS : DASHBOARDS.filter((d) => d.uid === opts.dashboard);
  if (chosen.length === 0) throw new Error(`unknown dashboard ${opts.dashboard}; one of ${DASHBOARDS.map((d) => d.uid).join(', ')}`);
  fs.mkdirSync(opts.out, { recursive: true });
  for (const d of chosen) {
    const panels = await fetchPanels(url, d, from, to, step);
    const svg = renderDashboardSvg({ title: `${d.title} — last ${opts.minutes} min (rendered from Prometheus)`, panels, from, to });
    const svgFile = path.join(opts.out, `${d.uid}.svg`);
    const pngFile = path.join(opts.out, `${d.uid}.png`);
    fs.writeFileSync(svgFile, svg);
    const tool = svgToPng(svgFile, pngFile);
    if (tool) {
      fs.rmSync(svgFile);
      console.log(`wrote ${path.relative(process.cwd(), pngFile)} (${tool})`);
    } else console.log(`wrote ${path.relative(process.cwd(), svgFile)} (no SVG converter: apt-get install librsvg2-bin)`);
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(`render-png: ${(e as Error).message}`);
    process.exit(1);
  });
}
