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

/**
 * Cuts Markdown to at most `limit` characters (GitHub's limits on comment bodies and check-run
 * summaries) at a line break, closes the `<details>` and code fences the cut left open, and
 * says so, with `hint` on where the rest is. Text within the limit is returned as is.
 */
export function truncateMarkdown(text: string, limit: number, hint: string): string {
  if (text.length <= limit) return text;
  const notice = `\n\n> ✂️ Truncated to stay under GitHub's limit of ${limit.toLocaleString('en-US')} characters. ${hint}\n`;
  let room = limit - notice.length;
  for (;;) {
    const cut = text.lastIndexOf('\n', room);
    const kept = text.slice(0, cut > 0 ? cut : Math.max(0, room));
    const fences = (kept.match(/^```/gm) ?? []).length;
    const open = (kept.match(/<details>/g) ?? []).length - (kept.match(/<\/details>/g) ?? []).length;
    const closing = (fences % 2 === 1 ? '\n```' : '') + '\n\n</details>'.repeat(Math.max(0, open));
    const result = `${kept}${closing}${notice}`;
    if (result.length <= limit || room <= 0) return result.slice(0, limit);
    room -= result.length - limit;
  }
}

/** A part of a longer Markdown text that may be left out when the whole is too long. */
export interface MarkdownBlock {
  text: string;
  /** 0 (default): always kept; otherwise blocks with a higher rank are left out first, later ones first among equals. */
  drop?: number;
}

/**
 * Joins blocks (blank line between), leaving out droppable ones until the text fits in `limit`
 * characters, then adds `notice` saying so; if even the kept blocks are too long, they are cut
 * with {@link truncateMarkdown}.
 */
export function fitMarkdown(blocks: readonly MarkdownBlock[], limit: number, notice: string): string {
  const join = (parts: readonly MarkdownBlock[]) =>
    `${parts
      .map((block) => block.text)
      .filter(Boolean)
      .join('\n\n')}\n`;
  const whole = join(blocks);
  if (whole.length <= limit) return whole;
  const order = blocks
    .map((block, index) => ({ block, index }))
    .filter(({ block }) => (block.drop ?? 0) > 0)
    .sort((a, b) => (b.block.drop ?? 0) - (a.block.drop ?? 0) || b.index - a.index);
  const kept = new Set(blocks);
  const noticeBlock: MarkdownBlock = { text: `> ✂️ ${notice}` };
  for (const { block } of order) {
    kept.delete(block);
    const text = join([...blocks.filter((b) => kept.has(b)), noticeBlock]);
    if (text.length <= limit) return text;
  }
  return truncateMarkdown(join([...blocks.filter((b) => kept.has(b)), noticeBlock]), limit, notice);
}
