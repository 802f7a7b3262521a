/**
 * Tables as HTML (and plain text for consoles): arquero tables or arrays of row objects.
 */
import { escapeHtml } from './html';

/** The part of an arquero table that the table builders use (kept structural: arquero is ESM-only). */
export interface TableLike {
  columnNames(): string[];
  numRows(): number;
  objects(opts?: { limit?: number }): object[];
}

/** A table source: an arquero table or row objects. */
export type TableSource = TableLike | ReadonlyArray<object>;

/** Options of `tableHtml` / `tableText`. */
export interface TableOptions {
  /** rows shown (default 20); the footer says how many were left out */
  limit?: number;
  /** significant digits of non-integer numbers (default 4) */
  digits?: number;
  /** caption above the table */
  caption?: string;
  /** columns to show, in order (default: all) */
  columns?: string[];
}

function isTableLike(t: TableSource): t is TableLike {
  return typeof (t as TableLike).objects === 'function' && typeof (t as TableLike).numRows === 'function';
}

/** Rows, column names and total row count of a table source (at most `limit` rows). */
export function tableRows(
  t: TableSource,
  limit: number,
): { columns: string[]; rows: Record<string, unknown>[]; total: number } {
  if (isTableLike(t)) {
    return { columns: t.columnNames(), rows: t.objects({ limit }) as Record<string, unknown>[], total: t.numRows() };
  }
  const rows = t.slice(0, limit) as Record<string, unknown>[];
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of t)
    for (const k of Object.keys(r as Record<string, unknown>)) if (!seen.has(k)) (seen.add(k), columns.push(k));
  return { columns, rows, total: t.length };
}

/** Format one cell: integers as is, other numbers to `digits` significant digits, arrays joined. */
export function formatCell(v: unknown, digits = 4): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    return Number(v.toPrecision(digits)).toString();
  }
  if (v instanceof Date) return v.toISOString().slice(0, 19).replace('T', ' ');
  if (Array.isArray(v) || ArrayBuffer.isView(v))
    return Array.from(v as ArrayLike<unknown>)
      .map((x) => formatCell(x, digits))
      .join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** An HTML table (escaped cells, numbers right-aligned, a footer when rows were left out). Pure. */
export function tableHtml(t: TableSource, opts: TableOptions = {}): string {
  const limit = opts.limit ?? 20;
  const digits = opts.digits ?? 4;
  const { columns: all, rows, total } = tableRows(t, limit);
  const columns = opts.columns ?? all;
  const th = columns.map((c) => `<th style="text-align:left;padding:2px 8px">${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((r) => {
      const tds = columns
        .map((c) => {
          const v = r[c];
          const align = typeof v === 'number' ? 'right' : 'left';
          return `<td style="text-align:${align};padding:2px 8px">${escapeHtml(formatCell(v, digits))}</td>`;
        })
        .join('');
      return `<tr>${tds}</tr>`;
    })
    .join('\n');
  const caption = opts.caption
    ? `<caption style="caption-side:top;text-align:left;font-weight:bold">${escapeHtml(opts.caption)}</caption>`
    : '';
  const more =
    total > rows.length ? `<div style="color:#666;font-size:90%">${rows.length} of ${total} rows shown</div>` : '';
  return `<table class="bst-table" style="border-collapse:collapse">${caption}<thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>${more}`;
}

/** The same table as aligned plain text (consoles, jest, the CLI). Pure. */
export function tableText(t: TableSource, opts: TableOptions = {}): string {
  const limit = opts.limit ?? 20;
  const digits = opts.digits ?? 4;
  const { columns: all, rows, total } = tableRows(t, limit);
  const columns = opts.columns ?? all;
  const cells = rows.map((r) => columns.map((c) => formatCell(r[c], digits)));
  const width = columns.map((c, j) => Math.max(c.length, ...cells.map((row) => row[j].length)));
  const line = (xs: string[]) =>
    xs
      .map((x, j) => x.padEnd(width[j]))
      .join('  ')
      .trimEnd();
  const out = [] as string[];
  if (opts.caption) out.push(opts.caption);
  out.push(line(columns), line(width.map((w) => '-'.repeat(w))), ...cells.map(line));
  if (total > rows.length) out.push(`(${rows.length} of ${total} rows shown)`);
  return out.join('\n');
}
