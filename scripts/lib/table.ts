/** A markdown table with right-aligned columns after the first. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => '| ' + cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ') + ' |';
  const rule = '| ' + widths.map((w, c) => (c === 0 ? '-'.repeat(w) : '-'.repeat(Math.max(1, w - 1)) + ':')).join(' | ') + ' |';
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function fixed(value: number, digits: number): string {
  if (Number.isNaN(value)) return 'n/a';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return value.toFixed(digits);
}

export function percent(value: number, digits = 1): string {
  return Number.isFinite(value) ? `${(100 * value).toFixed(digits)}%` : 'n/a';
}

/** A relative change (after/before − 1) as a signed percentage: "-42.0%", "+1.3%". */
export function change(before: number, after: number, digits = 1): string {
  const value = after / before - 1;
  if (!Number.isFinite(value)) return 'n/a';
  return `${value >= 0 ? '+' : '-'}${Math.abs(100 * value).toFixed(digits)}%`;
}

/** Small positive measures (E_warp, CDC) in scientific notation. */
export function sci(value: number, digits = 3): string {
  return Number.isFinite(value) ? value.toExponential(digits) : fixed(value, digits);
}

export const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

/** JSON with non-finite numbers kept readable ("Infinity", "NaN") instead of null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2) + '\n';
}
