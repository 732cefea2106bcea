/** Small helpers for Markdown that GitHub renders (job summaries, comments, check runs). */

/** Escapes text from users or data so it cannot break a table or inject HTML. */
export function escapeMarkdown(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('|', '\\|')
    .replaceAll('`', '\\`')
    .replace(/\r?\n/g, ' ');
}

/** A Markdown table; cells are escaped unless they are already Markdown (`raw`). */
export function renderTable(header: string[], rows: (string | number)[][], raw = false): string {
  const cell = (value: string | number) => (raw ? String(value) : escapeMarkdown(String(value)));
  const lines = [`| ${header.map(cell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

/** A collapsed section. */
export function renderDetails(summary: string, body: string): string {
  return `<details><summary>${escapeMarkdown(summary)}</summary>\n\n${body}\n\n</details>`;
}
