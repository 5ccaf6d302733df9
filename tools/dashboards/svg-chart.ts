/**
 * Server-side charts without native dependencies: a dashboard's panels as one SVG (a grid of line
 * charts with axes and legends), converted to PNG by `render-png.ts`. Pure: data in, SVG text out.
 */

/** One line: legend label and [unix seconds, value] points (NaN values are gaps). */
export interface Series {
  label: string;
  points: [number, number][];
}

export interface ChartPanel {
  title: string;
  unit: string;
  series: Series[];
}

const PALETTE = ['#7eb26d', '#eab839', '#6ed0e0', '#ef843c', '#e24d42', '#1f78c1', '#ba43a9', '#705da0', '#508642', '#cca300'];

/** XML-escapes text for SVG. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A short human label for an axis value in a Grafana unit (percentunit -> %, bytes -> KiB/MiB/..). */
export function formatValue(v: number, unit: string): string {
  if (!Number.isFinite(v)) return '';
  if (unit === 'percentunit') return `${+(v * 100).toFixed(1)}%`;
  if (unit === 'bytes') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) (v /= 1024), i++;
    return `${+v.toFixed(1)} ${units[i]}`;
  }
  const suffix = { s: ' s', watt: ' W', kwatth: ' kWh', decmbytes: ' MB', decgbytes: ' GB', reqps: '/s', ops: '/s' }[unit] ?? '';
  const a = Math.abs(v);
  const n = a >= 1e6 ? `${+(v / 1e6).toFixed(1)}M` : a >= 1e4 ? `${+(v / 1e3).toFixed(1)}k` : a >= 100 || a === 0 ? `${Math.round(v)}` : `${+v.toPrecision(3)}`;
  return n + suffix;
}

/** Rounded axis maximum and step (1, 2 or 5 times a power of ten), for `ticks` intervals. */
export function niceScale(max: number, ticks = 4): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 0.25 };
  const raw = max / ticks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  return { max: step * ticks, step };
}

/**
 * Renders `panels` as a grid (`columns` per row) of line charts, each `panelWidth` x `panelHeight` px,
 * under a `title` bar; dark theme like Grafana's. The x axis spans [from, to] (unix seconds) and is
 * labelled in minutes before `to`.
 */
export function renderDashboardSvg(opts: { title: string; panels: ChartPanel[]; from: number; to: number; columns?: number; panelWidth?: number; panelHeight?: number }): string {
  const cols = opts.columns ?? 2;
  const pw = opts.panelWidth ?? 560;
  const ph = opts.panelHeight ?? 260;
  const gap = 12;
  const head = 44;
  const rows = Math.ceil(opts.panels.length / cols);
  const width = cols * pw + (cols + 1) * gap;
  const height = head + rows * ph + (rows + 1) * gap;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#111217"/>`,
    `<text x="${gap}" y="29" font-size="18" fill="#d8d9da">${escapeXml(opts.title)}</text>`,
  ];
  opts.panels.forEach((p, i) => {
    const x0 = gap + (i % cols) * (pw + gap);
    const y0 = head + gap + Math.floor(i / cols) * (ph + gap);
    out.push(panelSvg(p, x0, y0, pw, ph, opts.from, opts.to));
  });
  out.push('</svg>');
  return out.join('\n');
}

function panelSvg(p: ChartPanel, x0: number, y0: number, w: number, h: number, from: number, to: number): string {
  const left = 64;
  const right = 12;
  const top = 30;
  const legendRows = Math.min(3, Math.ceil(p.series.length / 3));
  const bottom = 26 + legendRows * 16;
  const cw = w - left - right;
  const chartH = h - top - bottom;
  const values = p.series.flatMap((s) => s.points.map(([, v]) => v)).filter(Number.isFinite);
  const { max, step } = niceScale(Math.max(0, ...values));
  const X = (t: number) => x0 + left + ((t - from) / Math.max(1, to - from)) * cw;
  const Y = (v: number) => y0 + top + chartH - (Math.max(0, v) / max) * chartH;
  const parts: string[] = [
    `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" rx="3" fill="#181b1f" stroke="#2c3235"/>`,
    `<text x="${x0 + 10}" y="${y0 + 20}" font-size="13" fill="#d8d9da">${escapeXml(p.title)}</text>`,
  ];
  for (let v = 0; v <= max + step / 2; v += step) {
    parts.push(`<line x1="${x0 + left}" x2="${x0 + left + cw}" y1="${Y(v)}" y2="${Y(v)}" stroke="#2c3235"/>`);
    parts.push(`<text x="${x0 + left - 6}" y="${Y(v) + 4}" font-size="10" fill="#8e8e8e" text-anchor="end">${escapeXml(formatValue(v, p.unit))}</text>`);
  }
  const span = to - from;
  for (let k = 0; k <= 4; k++) {
    const t = from + (span * k) / 4;
    const mins = Math.round((to - t) / 60);
    parts.push(`<text x="${X(t)}" y="${y0 + top + chartH + 14}" font-size="10" fill="#8e8e8e" text-anchor="middle">${mins === 0 ? 'now' : `-${mins}m`}</text>`);
  }
  if (p.series.length === 0) parts.push(`<text x="${x0 + w / 2}" y="${y0 + h / 2}" font-size="12" fill="#8e8e8e" text-anchor="middle">no data</text>`);
  p.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    let d = '';
    let pen = false;
    for (const [t, v] of s.points) {
      if (!Number.isFinite(v)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${X(t).toFixed(1)},${Y(v).toFixed(1)}`;
      pen = true;
    }
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    if (i < 9) {
      const lx = x0 + left + (i % 3) * (cw / 3);
      const ly = y0 + top + chartH + 30 + Math.floor(i / 3) * 16;
      parts.push(`<rect x="${lx}" y="${ly - 8}" width="10" height="3" fill="${color}"/>`);
      parts.push(`<text x="${lx + 14}" y="${ly - 4}" font-size="10" fill="#c7d0d9">${escapeXml(s.label.length > 24 ? s.label.slice(0, 23) + '…' : s.label)}</text>`);
    }
  });
  return parts.join('\n');
}
