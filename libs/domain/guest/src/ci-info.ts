/**
 * A table as cloud-init's ci-info lines print it (prettytable through cloudinit.simpletable): a title
 * row of '+' around the centred title, then '+---+' rules, centred cells, each line prefixed "ci-info: ".
 */
export function ciInfoTable(title: string, header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)) + 2);
  const centre = (s: string, w: number) => {
    const left = Math.floor((w - s.length) / 2);
    return ' '.repeat(left) + s + ' '.repeat(w - s.length - left);
  };
  const rule = `+${widths.map((w) => '-'.repeat(w)).join('+')}+`;
  const row = (cells: readonly string[]) => `|${widths.map((w, i) => centre(cells[i] ?? '', w)).join('|')}|`;
  const total = rule.length;
  const pad = Math.max(0, total - title.length);
  const titleLine = '+'.repeat(Math.floor(pad / 2)) + title + '+'.repeat(pad - Math.floor(pad / 2));
  return [titleLine, rule, row(header), rule, ...rows.map(row), rule].map((l) => `ci-info: ${l}`);
}

/** Dotted IPv4 netmask of a prefix length (24 -> 255.255.255.0). */
export function netmaskOf(prefixLength: number): string {
  const bits = Math.max(0, Math.min(32, prefixLength));
  const n = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}
