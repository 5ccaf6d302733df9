import type { DashboardDef, PanelDef } from './dashboards';

/** The datasource uid provisioned by deploy/grafana/provisioning/datasources/prometheus.yml. */
export const DATASOURCE = { type: 'prometheus', uid: 'minicloud-prometheus' } as const;

/**
 * Renders one dashboard definition to Grafana's dashboard JSON (schemaVersion 39, Grafana 10.x):
 * panels laid out two per row (stats four per row), 1-hour default range, 10 s refresh, and one
 * multi-select "All" template variable per `variables` entry. Pure; the output is deterministic.
 */
export function toGrafanaJson(d: DashboardDef): Record<string, unknown> {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const panels = d.panels.map((p, id) => {
    const w = p.kind === 'stat' ? 6 : 12;
    const h = p.kind === 'stat' ? 5 : 8;
    if (x + w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { x, y, w, h };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    return panelJson(p, id + 1, gridPos);
  });
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['minicloud'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    annotations: { list: [] },
    templating: {
      list: (d.variables ?? []).map((v) => ({
        name: v.name,
        label: v.label,
        type: 'query',
        datasource: DATASOURCE,
        query: { query: v.query, refId: 'vars' },
        definition: v.query,
        refresh: 2,
        multi: true,
        includeAll: true,
        allValue: '.+',
        current: { selected: true, text: ['All'], value: ['$__all'] },
        sort: 1,
      })),
    },
    panels,
  };
}

function panelJson(p: PanelDef, id: number, gridPos: { x: number; y: number; w: number; h: number }) {
  return {
    id,
    type: p.kind,
    title: p.title,
    description: p.description,
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: { defaults: { unit: p.unit, ...(p.kind === 'timeseries' ? { custom: { lineWidth: 2, fillOpacity: 10 } } : {}) }, overrides: [] },
    options:
      p.kind === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'value_and_name' }
        : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    targets: p.queries.map((q, i) => ({ refId: String.fromCharCode(65 + i), datasource: DATASOURCE, expr: q.expr, legendFormat: q.legend, range: true })),
  };
}
