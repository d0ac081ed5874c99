/** Small helpers for the preview's server-rendered pages. Every value from content is escaped. */
import { escapeHtml as escapeText } from '../content/markdown.js';

export function escapeHtml(value: unknown): string {
  return escapeText(String(value ?? ''));
}

/** Tagged template that escapes every interpolation except values wrapped with `raw()`. */
export class Raw {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

export function raw(html: string): Raw {
  return new Raw(html);
}

function part(value: unknown): string {
  if (value instanceof Raw) return value.html;
  if (Array.isArray(value)) return value.map(part).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += part(values[i]) + strings[i + 1]!;
  return new Raw(out);
}

export { formatKb } from '../format.js';

export function formatTime(date: Date): string {
  return date.toTimeString().slice(0, 8);
}

/** `2023-09-11` → `11 Sept 2023` in the newsletter's locale; unknown locales fall back to ISO. */
export function formatDate(isoDate: string | null, locale: string): string {
  if (!isoDate) return '';
  try {
    return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${isoDate}T00:00:00Z`));
  } catch {
    return isoDate;
  }
}

export function pageShell(options: { title: string; page: string; attributes?: Record<string, string | number>; body: Raw }): string {
  const attributes = Object.entries(options.attributes ?? {})
    .map(([key, value]) => ` data-${key}="${escapeHtml(value)}"`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/preview.css">
<script type="module" src="/assets/preview.js"></script>
</head>
<body data-page="${escapeHtml(options.page)}"${attributes}>
${options.body.html}
</body>
</html>
`;
}
