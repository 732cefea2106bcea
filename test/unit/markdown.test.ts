/**
 * The Markdown helpers, character by character: what each escape turns into (test/hostile/rendering.test.ts
 * checks that hostile text renders inert through micromark; here, that each rule does exactly its part,
 * so that a rule dropped or widened fails a test).
 */
import { describe, expect, it } from 'vitest';
import {
  escapeHtmlText,
  escapeMarkdown,
  escapeName,
  fitMarkdown,
  MAX_NAME_LENGTH,
  MAX_TEXT_LENGTH,
  renderCode,
  renderDetails,
  renderTable,
  shortenNames,
  truncateMarkdown,
  truncateText,
} from '../../src/core/markdown.ts';

const ZWJ = '\u200D';

describe('escapeMarkdown', () => {
  it('writes & as an entity, so that text like &lt; shows as typed and not as <', () => {
    expect(escapeMarkdown('a & b')).toBe('a &amp; b');
    expect(escapeMarkdown('&lt;b&gt; &amp;')).toBe('&amp;lt;b&amp;gt; &amp;amp;');
    expect(escapeMarkdown('<img src=x>')).toBe('&lt;img src=x&gt;');
  });

  it('puts every line break (\\n, \\r\\n, \\r) on one line as a space', () => {
    expect(escapeMarkdown('one\ntwo\r\nthree\rfour')).toBe('one two three four');
    expect(escapeMarkdown('x\n\ny')).toBe('x  y');
    // A line break cannot start a new block: "- three" on its own line would be a list item.
    expect(escapeMarkdown('one\n- three')).toBe('one - three');
  });

  it('backslash-escapes the characters that open code, emphasis, links, cells and math', () => {
    expect(escapeMarkdown('a*b ~x~ [l](u) `c` |p| $x$ \\')).toBe(
      'a\\*b \\~x\\~ \\[l\\](u) \\`c\\` \\|p\\| \\$x\\$ \\\\',
    );
  });

  it('escapes _ only at the edge of a word', () => {
    expect(escapeMarkdown('petal_width')).toBe('petal_width');
    expect(escapeMarkdown('_lead trail_ _both_ é_é 1_2')).toBe('\\_lead trail\\_ \\_both\\_ é_é 1_2');
  });

  it('breaks GFM autolinks: the : before // and the . after www', () => {
    expect(escapeMarkdown('http://x.y https://z ftp://q a:b')).toBe('http\\://x.y https\\://z ftp\\://q a:b');
    expect(escapeMarkdown('www.example.com WWW.X.org awww.b www')).toBe(
      'www\\.example.com WWW\\.X.org awww.b www',
    );
  });

  it('keeps text at the start from becoming a heading, list item, ordered item or setext underline', () => {
    expect(escapeMarkdown('# h')).toBe('\\# h');
    expect(escapeMarkdown('- item')).toBe('\\- item');
    expect(escapeMarkdown('+ item')).toBe('\\+ item');
    expect(escapeMarkdown('-')).toBe('\\-');
    expect(escapeMarkdown('-x')).toBe('-x');
    expect(escapeMarkdown('a - b')).toBe('a - b');
    expect(escapeMarkdown('1. one')).toBe('1\\. one');
    expect(escapeMarkdown('12) two')).toBe('12\\) two');
    expect(escapeMarkdown('7.')).toBe('7\\.');
    expect(escapeMarkdown('1.5')).toBe('1.5');
    expect(escapeMarkdown('x 1. y')).toBe('x 1. y');
    // CommonMark allows at most 9 digits in an ordered-list marker.
    expect(escapeMarkdown('1234567890. x')).toBe('1234567890. x');
    expect(escapeMarkdown('===')).toBe('\\===');
    expect(escapeMarkdown('= ')).toBe('\\= ');
    expect(escapeMarkdown('= =')).toBe('= =');
    expect(escapeMarkdown('=a')).toBe('=a');
  });

  it('follows @ and a # before a digit with a zero-width joiner, so GitHub links no mention or reference', () => {
    expect(escapeMarkdown('@me')).toBe(`@${ZWJ}me`);
    expect(escapeMarkdown('a@b.c')).toBe(`a@${ZWJ}b.c`);
    expect(escapeMarkdown('issue #12 and #x')).toBe(`issue #${ZWJ}12 and #x`);
    expect(escapeMarkdown('#1')).toBe(`\\#${ZWJ}1`);
  });

  it('cuts text at MAX_TEXT_LENGTH and names at MAX_NAME_LENGTH', () => {
    expect(escapeMarkdown('z'.repeat(MAX_TEXT_LENGTH))).toBe('z'.repeat(MAX_TEXT_LENGTH));
    expect(escapeMarkdown('z'.repeat(MAX_TEXT_LENGTH + 1))).toBe(
      `${'z'.repeat(MAX_TEXT_LENGTH)}… (1,001 characters)`,
    );
    expect(escapeName('y'.repeat(MAX_NAME_LENGTH))).toBe('y'.repeat(MAX_NAME_LENGTH));
    expect(escapeName(`${'y'.repeat(MAX_NAME_LENGTH)}*`)).toBe(
      `${'y'.repeat(MAX_NAME_LENGTH)}… (201 characters)`,
    );
    expect(escapeName('a_ @b\nc')).toBe(`a\\_ @${ZWJ}b c`);
  });
});

describe('renderTable', () => {
  it('escapes & and line breaks in header and cells, and keeps a pipe from splitting a row', () => {
    expect(
      renderTable(
        ['a&b', 'c'],
        [
          ['x\ny', '1 & 2'],
          [3, 'p|q'],
        ],
      ),
    ).toBe('| a&amp;b | c |\n| --- | --- |\n| x y | 1 &amp; 2 |\n| 3 | p\\|q |');
  });

  it('leaves raw cells alone', () => {
    expect(renderTable(['`a`', 'b'], [['**x**', 2]], true)).toBe('| `a` | b |\n| --- | --- |\n| **x** | 2 |');
    expect(renderTable(['h'], [])).toBe('| h |\n| --- |');
  });
});

describe('escapeHtmlText and renderDetails', () => {
  it('uses entities and joiners only, on one line', () => {
    expect(escapeHtmlText('a & <b> "q" *x* @y\n#1\r\n#z')).toBe(
      `a &amp; &lt;b&gt; &quot;q&quot; *x* @${ZWJ}y #${ZWJ}1 #z`,
    );
    expect(escapeHtmlText('a\rb')).toBe('a b');
    expect(escapeHtmlText('q'.repeat(MAX_TEXT_LENGTH + 1))).toBe(
      `${'q'.repeat(MAX_TEXT_LENGTH)}… (1,001 characters)`,
    );
  });

  it('wraps a body in a collapsed section with an escaped summary', () => {
    expect(renderDetails('a & <b> @x', 'body')).toBe(
      `<details><summary>a &amp; &lt;b&gt; @${ZWJ}x</summary>\n\nbody\n\n</details>`,
    );
  });
});

describe('renderCode', () => {
  it('fences with one backtick more than the longest run inside, padding when needed', () => {
    expect(renderCode('a')).toBe('`a`');
    expect(renderCode('a`b')).toBe('``a`b``');
    expect(renderCode('``x`')).toBe('``` ``x` ```');
    expect(renderCode('x ')).toBe('` x  `');
    expect(renderCode(' x')).toBe('`  x `');
    expect(renderCode(' ')).toBe('` `');
    expect(renderCode('l1\nl2\r\nl3\rl4')).toBe('`l1 l2 l3 l4`');
    expect(renderCode('')).toBe('*(empty)*');
  });

  it('escapes pipes in tables only, and shows a backslash-pipe as escaped text', () => {
    expect(renderCode('a|b')).toBe('`a\\|b`');
    expect(renderCode('a|b', false)).toBe('`a|b`');
    expect(renderCode('a\\|b')).toBe('a\\\\\\|b');
    expect(renderCode('a\\|b', false)).toBe('`a\\|b`');
  });

  it('cuts at its limit', () => {
    expect(renderCode('x'.repeat(5), true, 3)).toBe('`xxx… (5 characters)`');
    expect(renderCode('x'.repeat(MAX_NAME_LENGTH + 1))).toBe(
      `\`${'x'.repeat(MAX_NAME_LENGTH)}… (201 characters)\``,
    );
  });
});

describe('truncateText and shortenNames', () => {
  it('cuts after the limit, never inside a surrogate pair, and gives the full length', () => {
    expect(truncateText('abc', 3)).toBe('abc');
    expect(truncateText('abcdef', 3)).toBe('abc… (6 characters)');
    expect(truncateText('ab\u{1F600}', 3)).toBe('ab… (4 characters)');
    // A pair that fits whole is kept: only a high surrogate at the very end is dropped.
    expect(truncateText('\u{1F600}abcd', 3)).toBe('\u{1F600}a… (6 characters)');
    expect(truncateText('x'.repeat(1234), 3)).toBe('xxx… (1,234 characters)');
    expect(truncateText('n'.repeat(MAX_NAME_LENGTH + 1))).toBe(
      `${'n'.repeat(MAX_NAME_LENGTH)}… (201 characters)`,
    );
  });

  it('replaces every occurrence of each long name in a message, and nothing else', () => {
    const long = 'n'.repeat(205);
    const short = `${'n'.repeat(MAX_NAME_LENGTH)}… (205 characters)`;
    expect(shortenNames(`Column "${long}" and "${long}" x`, [undefined, long, 'x'])).toBe(
      `Column "${short}" and "${short}" x`,
    );
    const exact = 'm'.repeat(MAX_NAME_LENGTH);
    expect(shortenNames(`"${exact}"`, [exact])).toBe(`"${exact}"`);
  });
});

describe('truncateMarkdown', () => {
  const text = [
    'intro',
    '<details><summary>s</summary>',
    '',
    '```',
    ...Array.from({ length: 20 }, (_, i) => `code line ${i}`),
    '```',
    '',
    '</details>',
  ].join('\n');

  it('returns text within the limit as is', () => {
    expect(truncateMarkdown(text, text.length, 'Hint.')).toBe(text);
  });

  it('cuts at a line break, closes the open fence and <details>, and says so within the limit', () => {
    const cut = truncateMarkdown(text, 200, 'Hint.');
    expect(cut).toBe(
      `intro\n<details><summary>s</summary>\n\n\`\`\`\n${Array.from({ length: 6 }, (_, i) => `code line ${i}`).join('\n')}\n\`\`\`\n\n</details>\n\n> ✂️ Truncated to stay under GitHub's limit of 200 characters. Hint.\n`,
    );
    expect(cut.length).toBe(199);
    const tighter = truncateMarkdown(text, 150, 'Hint.');
    expect(tighter).toBe(
      "intro\n<details><summary>s</summary>\n\n```\ncode line 0\n```\n\n</details>\n\n> ✂️ Truncated to stay under GitHub's limit of 150 characters. Hint.\n",
    );
  });

  it('closes nothing that was not open', () => {
    const body = `<details><summary>x</summary>\n\n${Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n')}\n\n</details>`;
    expect(truncateMarkdown(body, 150, 'H.')).toBe(
      "<details><summary>x</summary>\n\nline 0\nline 1\nline 2\nline 3\nline 4\n\n</details>\n\n> ✂️ Truncated to stay under GitHub's limit of 150 characters. H.\n",
    );
    expect(truncateMarkdown(`x\n${'a'.repeat(40)}\n${'b'.repeat(200)}`, 130, 'H.')).toBe(
      `x\n${'a'.repeat(40)}\n\n> ✂️ Truncated to stay under GitHub's limit of 130 characters. H.\n`,
    );
  });

  it('counts only fences at the start of a line, and <details> that are still open', () => {
    const lines = 'line\n'.repeat(40);
    const notice = "\n\n> ✂️ Truncated to stay under GitHub's limit of 150 characters. H.\n";
    expect(truncateMarkdown(`x \`\`\` y\n${lines}`, 150, 'H.')).toBe(
      `x \`\`\` y\n${'line\n'.repeat(14)}line${notice}`,
    );
    const closed = '<details><summary>a</summary>\n\nbody\n\n</details>';
    expect(truncateMarkdown(`${closed}\n${lines}`, 150, 'H.')).toBe(
      `${closed}\n${'line\n'.repeat(6)}line${notice}`,
    );
  });

  it('keeps as much as fits: the room starts at the limit less the notice', () => {
    const text =
      '\nxxxxxxxxxx\n<details>\nxxxxxxxxxx\nxxxxxxxxxx<details>\n<details>\nxxxxxxxxxx<details><details>\n\n\n<details><details><details>\n';
    expect(truncateMarkdown(text, 121, 'H')).toBe(
      "\nxxxxxxxxxx\n<details>\nxxxxxxxxxx\n\n</details>\n\n> ✂️ Truncated to stay under GitHub's limit of 121 characters. H\n",
    );
  });

  it('cuts a text without line breaks at the room left, and a limit smaller than the notice to the limit', () => {
    // A line break only at the very start is no place to cut.
    expect(truncateMarkdown(`\n${'a'.repeat(300)}`, 150, 'H.')).toBe(
      `\n${'a'.repeat(81)}\n\n> ✂️ Truncated to stay under GitHub's limit of 150 characters. H.\n`,
    );
    expect(truncateMarkdown('a'.repeat(300), 150, 'H.')).toBe(
      `${'a'.repeat(82)}\n\n> ✂️ Truncated to stay under GitHub's limit of 150 characters. H.\n`,
    );
    expect(truncateMarkdown('a'.repeat(300), 40, 'H.')).toBe("\n\n> ✂️ Truncated to stay under GitHub's ");
  });
});

describe('fitMarkdown', () => {
  const blocks = [
    { text: 'keep' },
    { text: 'b'.repeat(30), drop: 1 },
    { text: 'c'.repeat(30), drop: 2 },
    { text: 'd'.repeat(30), drop: 1 },
    { text: '' },
  ];
  const [b, c, d] = ['b', 'c', 'd'].map((x) => x.repeat(30));

  it('keeps everything that fits, skipping empty blocks', () => {
    expect(fitMarkdown(blocks, 200, 'left out')).toBe(`keep\n\n${b}\n\n${c}\n\n${d}\n`);
    expect(fitMarkdown(blocks, `keep\n\n${b}\n\n${c}\n\n${d}\n`.length, 'left out')).toBe(
      `keep\n\n${b}\n\n${c}\n\n${d}\n`,
    );
  });

  it('leaves out the highest drop rank first, then the later of equal ranks, with a notice', () => {
    expect(fitMarkdown(blocks, 90, 'left out')).toBe(`keep\n\n${b}\n\n${d}\n\n> ✂️ left out\n`);
    expect(fitMarkdown(blocks, 80, 'left out')).toBe(`keep\n\n${b}\n\n> ✂️ left out\n`);
    expect(fitMarkdown(blocks, `keep\n\n${b}\n\n> ✂️ left out\n`.length, 'left out')).toBe(
      `keep\n\n${b}\n\n> ✂️ left out\n`,
    );
    expect(fitMarkdown(blocks, 40, 'left out')).toBe('keep\n\n> ✂️ left out\n');
  });

  it('cuts what is kept when it is still too long, without the blocks it left out', () => {
    expect(fitMarkdown([{ text: 'a', drop: 1 }, { text: 'x'.repeat(200) }], 150, 'cut')).toBe(
      `${'x'.repeat(81)}\n\n> ✂️ Truncated to stay under GitHub's limit of 150 characters. cut\n`,
    );
    expect(fitMarkdown([{ text: 'head' }, { text: 'x'.repeat(200) }], 150, 'cut')).toBe(
      "head\n\n\n> ✂️ Truncated to stay under GitHub's limit of 150 characters. cut\n",
    );
  });
});
