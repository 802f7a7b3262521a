/**
 * Small, pure HTML helpers shared by the chart and table builders.
 */
import { randomBytes } from 'crypto';

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/**
 * JSON that is safe inside a `<script>` element: `<`, `>`, `&` and the JavaScript line separators are written
 * as \u escapes, so a string holding `</script>` or `<!--` cannot end or confuse the script element.
 * Non-finite numbers (NaN, Infinity) become null, as JSON.stringify does.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Make JavaScript source safe to inline in a `<script>` element: `</script` (any case) becomes `<\/script`
 * and `<!--` becomes `<\!--`. Both rewrites are no-ops for the JavaScript meaning inside string literals,
 * which is where such text occurs in bundled libraries.
 */
export function inlineScriptSource(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** A generator of element ids unique within a process and, through a random prefix, across processes. */
export class IdSource {
  private n = 0;
  readonly prefix: string;

  constructor(prefix: string = 'bst-' + randomBytes(4).toString('hex')) {
    this.prefix = prefix;
  }

  /** The next id (`<prefix>-<n>`). */
  next(): string {
    this.n += 1;
    return `${this.prefix}-${this.n}`;
  }
}
