import { InvalidArgumentError } from '@minicloud/domain-errors';
import { formatCell, renderList, renderShow, type Column } from './output';

const columns: Column[] = [
  { header: 'ID', key: 'id' },
  { header: 'Name', key: 'name' },
  { header: 'Size', key: 'size_gb', get: (v) => `${v.size_gb} GB` },
];
const rows = [
  { id: 'a1', name: 'web', size_gb: 10, extra: true },
  { id: 'b2', name: 'db', size_gb: 20, extra: false },
];

describe('renderList', () => {
  it('draws a table with the column headers and computed cells', () => {
    const out = renderList(rows, columns);
    expect(out).toMatch(/│ ID\s+│ Name\s+│ Size\s+│|\| ID\s+\| Name/);
    expect(out).toContain('10 GB');
    expect(out).not.toContain('\u001b['); // no colours
  });

  it('prints values for scripts: -f value -c ID', () => {
    expect(renderList(rows, columns, { format: 'value', column: ['ID'] })).toBe('a1\nb2\n');
    expect(renderList(rows, columns, { format: 'value', column: ['name', 'id'] })).toBe('web a1\ndb b2\n');
  });

  it('prints whole snake_case views as JSON, or only the chosen columns', () => {
    expect(JSON.parse(renderList(rows, columns, { format: 'json' }))).toEqual(rows);
    expect(JSON.parse(renderList(rows, columns, { format: 'json', column: ['Size'] }))).toEqual([{ size_gb: '10 GB' }, { size_gb: '20 GB' }]);
  });

  it('rejects an unknown column or format naming the flag', () => {
    expect(() => renderList(rows, columns, { column: ['Nope'] })).toThrow(/invalid --column: unknown column "Nope"; choose from ID, Name, Size/);
    expect(() => renderList(rows, columns, { format: 'yaml' })).toThrow(InvalidArgumentError);
  });
});

describe('renderShow', () => {
  const view = { id: 'a1', name: 'web', metadata: { role: 'db' }, task_state: null };
  it('prints Field/Value rows, JSON, or values', () => {
    const table = renderShow(view);
    expect(table).toContain('Field');
    expect(table).toContain("role='db'");
    expect(JSON.parse(renderShow(view, { format: 'json' }))).toEqual(view);
    expect(renderShow(view, { format: 'value', column: ['name'] })).toBe('web\n');
    expect(() => renderShow(view, { column: ['bogus'] })).toThrow('invalid --column');
  });
});

describe('formatCell', () => {
  it('formats like the openstack CLI', () => {
    expect(formatCell(null)).toBe('');
    expect(formatCell(true)).toBe('True');
    expect(formatCell(['a', 'b'])).toBe('a, b');
    expect(formatCell({ a: '1', b: 2 })).toBe("a='1', b='2'");
    expect(formatCell([{ x: 1 }, { x: 2 }])).toBe("x='1'\nx='2'");
  });
});
