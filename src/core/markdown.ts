/**
 * Small helpers for Markdown that GitHub renders (job summaries, comments, check runs).
 *
 * Text from users or data (column names, categories, class labels, paths, messages) never steers
 * the rendering: GitHub renders CommonMark with the GFM extensions (tables, autolinks of `www.`,
 * `http(s)://` and e-mail addresses) and then links `@mentions` and `#123` references in the
 * resulting text. So user text is either
 * - inline code ({@link renderCode}): a backtick fence longer than any backtick run inside, where
 *   nothing is a link, a mention or HTML; or
 * - escaped plain text ({@link escapeMarkdown}): every Markdown punctuation character that could
 *   open a link, an image, emphasis, code, HTML or a table cell is backslash-escaped or an entity,
 *   autolinks are broken by escaping their `:`/`.` (the GFM autolink scanner looks for `://` and
 *   `www.` in the source), and `@`/`#` are followed by a zero-width joiner (U+200D), which GitHub's
 *   mention and reference linking does not cross.
 * Long names are cut to {@link MAX_NAME_LENGTH} characters and other text to
 * {@link MAX_TEXT_LENGTH}, with an ellipsis and the full length, so one huge name cannot crowd
 * everything else out of a comment.
 */

/** Names (columns, categories, class labels, paths) are cut to this many characters. */
export const MAX_NAME_LENGTH = 200;
/** Other user text (finding messages, gate reasons) is cut to this many characters. */
export const MAX_TEXT_LENGTH = 1_000;

/** Zero-width joiner: invisible, and no mention or issue reference spans it. */
const JOINER = '\u200D';

/**
 * `text` cut to `limit` characters (never inside a surrogate pair), followed by `…` and the full
 * length, e.g. `aaaa… (70,000 characters)`; text within the limit is returned as is.
 */
export function truncateText(text: string, limit: number = MAX_NAME_LENGTH): string {
  if (text.length <= limit) return text;
  let kept = text.slice(0, limit);
  if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1);
  return `${kept}… (${text.length.toLocaleString('en-US')} characters)`;
}

/**
 * `text` with every name in `names` that is longer than {@link MAX_NAME_LENGTH} replaced by its
 * truncated form: a message that quotes a 70,000-character column name stays readable.
 */
export function shortenNames(text: string, names: readonly (string | undefined)[]): string {
  let result = text;
  for (const name of names) {
    if (name === undefined) continue;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a name within the limit is its own truncation (truncateText returns it as is), so replacing it changes nothing
    if (name.length > MAX_NAME_LENGTH) result = result.replaceAll(name, truncateText(name));
  }
  return result;
}

/** `@octocat` and `#12` followed by a zero-width joiner, so GitHub links neither. */
function neutralizeReferences(text: string): string {
  return text.replaceAll('@', `@${JOINER}`).replace(/#(?=\d)/g, `#${JOINER}`);
}

/**
 * Escapes text from users or data for Markdown (outside code spans and HTML): it renders as the
 * same characters, on one line, and cannot open a link, image, autolink, mention, HTML tag, code
 * span, emphasis or table cell. Cut to {@link MAX_TEXT_LENGTH} characters first; names are
 * escaped with {@link escapeName}.
 */
export function escapeMarkdown(text: string): string {
  return escapeText(text, MAX_TEXT_LENGTH);
}

/** {@link escapeMarkdown} for a name (path, column, label): cut to {@link MAX_NAME_LENGTH} characters. */
export function escapeName(text: string): string {
  return escapeText(text, MAX_NAME_LENGTH);
}

function escapeText(text: string, limit: number): string {
  const escaped = truncateText(text, limit)
    .replace(/\r\n?|\n/g, ' ')
    .replace(/[\\`*~[\]|$]/g, (c) => `\\${c}`)
    // `_` only at a word's edge: inside a word (`petal_width`) it never opens emphasis.
    .replace(/(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\_')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    // GFM autolinks start at `scheme://` and `www.`; an escaped `:` or `.` is not part of the match.
    .replace(/:(?=\/\/)/g, '\\:')
    .replace(/\b(www)\./gi, '$1\\.')
    // Text at the start of a line must not become a heading, a list item or a setext underline.
    .replace(/^(#|[+-](?=\s|$))/, '\\$1')
    .replace(/^(\d{1,9})([.)])(?=\s|$)/, '$1\\$2')
    .replace(/^=(?==*\s*$)/, '\\=');
  return neutralizeReferences(escaped);
}

/**
 * Escapes text for the inside of an HTML element (`<summary>`), where Markdown is not parsed (so
 * backslash escapes would show) but GitHub still links mentions: entities and the joiner only.
 */
export function escapeHtmlText(text: string): string {
  const escaped = truncateText(text, MAX_TEXT_LENGTH)
    .replace(/\r\n?|\n/g, ' ')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
  return neutralizeReferences(escaped);
}

/**
 * Inline code for text that is known but not trusted (column names, categories, class labels,
 * expressions, paths), cut to `limit` characters. The fence is one backtick longer than the
 * longest backtick run inside, and padded with a space when the text starts or ends with a
 * backtick or a space (CommonMark strips one space from each side again); line breaks become
 * spaces. In a table (`inTable`, the default) `|` is escaped: GFM splits rows before reading code
 * spans, and takes `\|` back to `|` inside them. Nothing in a code span is a link, a mention or HTML.
 * Empty text renders as *(empty)*.
 */
export function renderCode(text: string, inTable = true, limit: number = MAX_NAME_LENGTH): string {
  if (text === '') return '*(empty)*';
  let code = truncateText(text, limit).replace(/\r\n?|\n/g, ' ');
  if (inTable) {
    // A backslash before a pipe cannot be kept in a code span in a table: GFM parsers disagree on
    // whether `\\|` splits the cell. Such (rare) text is shown as escaped text instead.
    if (code.includes('\\|')) return escapeText(text, limit);
    code = code.replaceAll('|', '\\|');
  }
  const longestRun = Math.max(0, ...(code.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = /^[` ]|[` ]$/.test(code) && code.trim() !== '' ? ' ' : '';
  return `${fence}${pad}${code}${pad}${fence}`;
}

/** A Markdown table; cells are escaped unless they are already Markdown (`raw`). */
export function renderTable(header: string[], rows: (string | number)[][], raw = false): string {
  const cell = (value: string | number) => (raw ? String(value) : escapeMarkdown(String(value)));
  const lines = [`| ${header.map(cell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

/** A collapsed section; `summary` is plain text (escaped here), `body` Markdown. */
export function renderDetails(summary: string, body: string): string {
  return `<details><summary>${escapeHtmlText(summary)}</summary>\n\n${body}\n\n</details>`;
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
    if (result.length <= limit) return result;
    // Stryker disable next-line EqualityOperator: at room 0 the next round keeps the same empty text, so stopping at 0 or just below returns the same
    if (room <= 0) return result.slice(0, limit);
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
