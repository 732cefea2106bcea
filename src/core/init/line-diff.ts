/**
 * A unified diff of two texts by lines, for `mlops init --dry-run` to show what it would change in a
 * file that exists. The files involved are workflows and configs of a few hundred lines: a longest
 * common subsequence table is simple and fast enough; past a bound the diff is one replacing hunk.
 */

/** Lines × lines beyond which no alignment is computed (one hunk replaces everything). */
const MAX_CELLS = 4_000_000;
const CONTEXT = 3;

type Edit = { kind: ' ' | '-' | '+'; line: string };

/**
 * `--- a` / `+++ b` and `@@ -l,n +l,n @@` hunks with three lines of context, as `diff -u` prints them
 * (without a "no newline at end of file" marker). Empty when the texts are equal.
 */
export function renderUnifiedDiff(
  before: string,
  after: string,
  labels: { before: string; after: string },
): string {
  if (before === after) return '';
  const edits = diffLines(splitLines(before), splitLines(after));
  const hunks: string[] = [];
  let index = 0;
  while (index < edits.length) {
    // The next change, with up to CONTEXT lines before it.
    while (index < edits.length && edits[index].kind === ' ') index++;
    if (index >= edits.length) break;
    const start = Math.max(0, index - CONTEXT);
    // Extend over changes separated by at most 2·CONTEXT unchanged lines.
    let end = index;
    for (let i = index; i < edits.length; i++) {
      if (edits[i].kind !== ' ') end = i;
      else if (i - end > 2 * CONTEXT) break;
    }
    const stop = Math.min(edits.length, end + CONTEXT + 1);
    const oldStart = edits.slice(0, start).filter((e) => e.kind !== '+').length;
    const newStart = edits.slice(0, start).filter((e) => e.kind !== '-').length;
    const body = edits.slice(start, stop);
    const oldCount = body.filter((e) => e.kind !== '+').length;
    const newCount = body.filter((e) => e.kind !== '-').length;
    hunks.push(
      `@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@\n${body.map((e) => `${e.kind}${e.line}\n`).join('')}`,
    );
    index = stop;
  }
  return `--- ${labels.before}\n+++ ${labels.after}\n${hunks.join('')}`;
}

/** `diff -u`'s range: 1-based start and a count (left out when 1); an empty range starts at the line before. */
function range(start: number, count: number): string {
  if (count === 0) return `${start},0`;
  return count === 1 ? `${start + 1}` : `${start + 1},${count}`;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function diffLines(a: string[], b: string[]): Edit[] {
  // Common head and tail first: most edits of a generated file are local.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const middleA = a.slice(head, a.length - tail);
  const middleB = b.slice(head, b.length - tail);
  const same = (lines: string[]): Edit[] => lines.map((line) => ({ kind: ' ', line }));
  return [...same(a.slice(0, head)), ...alignMiddle(middleA, middleB), ...same(a.slice(a.length - tail))];
}

function alignMiddle(a: string[], b: string[]): Edit[] {
  const removed = a.map((line): Edit => ({ kind: '-', line }));
  const added = b.map((line): Edit => ({ kind: '+', line }));
  if (a.length === 0 || b.length === 0 || (a.length + 1) * (b.length + 1) > MAX_CELLS)
    return [...removed, ...added];
  // lengths[i][j]: longest common subsequence of a[i..] and b[j..].
  const width = b.length + 1;
  const lengths = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i * width + j] =
        a[i] === b[j]
          ? lengths[(i + 1) * width + j + 1] + 1
          : Math.max(lengths[(i + 1) * width + j], lengths[i * width + j + 1]);
    }
  }
  const edits: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      edits.push({ kind: ' ', line: a[i] });
      i++;
      j++;
    } else if (lengths[(i + 1) * width + j] >= lengths[i * width + j + 1]) {
      edits.push({ kind: '-', line: a[i++] });
    } else {
      edits.push({ kind: '+', line: b[j++] });
    }
  }
  while (i < a.length) edits.push({ kind: '-', line: a[i++] });
  while (j < b.length) edits.push({ kind: '+', line: b[j++] });
  return edits;
}
