import { escapeXml, formatValue, niceScale, renderDashboardSvg } from './svg-chart';
import { legendOf } from './render-png';
import { substituteVariables, allQueries, DASHBOARDS } from './dashboards';
import { toGrafanaJson } from './grafana-json';

describe('svg-chart', () => {
  it('niceScale rounds the axis up to 1/2/5 x 10^n steps', () => {
    expect(niceScale(7)).toEqual({ max: 8, step: 2 });
    expect(niceScale(130)).toEqual({ max: 200, step: 50 });
    expect(niceScale(0)).toEqual({ max: 1, step: 0.25 });
  });

  it('formats values in Grafana units', () => {
    expect(formatValue(0.256, 'percentunit')).toBe('25.6%');
    expect(formatValue(3 * 1024 * 1024, 'bytes')).toBe('3 MiB');
    expect(formatValue(250, 'watt')).toBe('250 W');
    expect(formatValue(12500, 'short')).toBe('12.5k');
    expect(formatValue(NaN, 'short')).toBe('');
  });

  it('draws one path per series, breaks lines at NaN gaps and escapes labels', () => {
    const svg = renderDashboardSvg({
      title: 'A & B',
      from: 0,
      to: 600,
      panels: [
        { title: 'p<1>', unit: 'short', series: [{ label: 'x', points: [[0, 1], [300, NaN], [600, 2]] }, { label: 'y', points: [[0, 3], [600, 4]] }] },
        { title: 'empty', unit: 'short', series: [] },
      ],
    });
    expect(svg).toContain('A &amp; B');
    expect(svg).toContain('p&lt;1&gt;');
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]);
    expect(paths).toHaveLength(2);
    expect(paths[0].match(/M/g)).toHaveLength(2); // the gap starts a new segment
    expect(svg).toContain('no data');
    expect(escapeXml('"<>&')).toBe('&quot;&lt;&gt;&amp;');
  });
});

describe('dashboards', () => {
  it('legend templates take label values', () => {
    expect(legendOf('{{host_id}} {{kind}}', { host_id: 'host-1', kind: 'capacity' })).toBe('host-1 capacity');
    expect(legendOf('', { job: 'image' })).toBe('job=image');
  });

  it('template variables become the All regex', () => {
    expect(substituteVariables('x{host_id=~"$host_id"} + y{a=~"${a}"}')).toBe('x{host_id=~".+"} + y{a=~".+"}');
    expect(allQueries().every((q) => !q.expr.includes('$'))).toBe(true);
  });

  it('the host dashboard is templated by host and its panels filter on it', () => {
    const host = toGrafanaJson(DASHBOARDS.find((d) => d.uid === 'minicloud-host')!) as { templating: { list: { name: string; allValue: string }[] }; panels: { targets: { expr: string }[] }[] };
    expect(host.templating.list).toEqual([expect.objectContaining({ name: 'host_id', allValue: '.+' })]);
    for (const p of host.panels) for (const t of p.targets) expect(t.expr).toContain('host_id=~"$host_id"');
  });

  it('lays panels out without overlap inside the 24-column grid', () => {
    for (const d of DASHBOARDS) {
      const panels = (toGrafanaJson(d) as { panels: { gridPos: { x: number; y: number; w: number; h: number } }[] }).panels.map((p) => p.gridPos);
      for (const a of panels) expect(a.x + a.w).toBeLessThanOrEqual(24);
      for (let i = 0; i < panels.length; i++)
        for (let j = i + 1; j < panels.length; j++) {
          const [a, b] = [panels[i], panels[j]];
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap).toBe(false);
        }
    }
  });
});
