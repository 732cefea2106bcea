/**
 * The layers of src/ (docs/architecture.md), checked on every run so that the structure cannot
 * slide back: no circle of imports between files or between folders (type-only imports count),
 * the engine (src/core) imports neither adapter nor @actions/*, and neither adapter (src/actions,
 * src/cli) imports the other. A folder is each directory under src/core/ (with its subfolders),
 * src/core's own files, and src/actions, src/cli, src/github each as one.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../harness/run-action.ts';

const src = join(repoRoot, 'src');

function listFiles(folder: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(folder)) {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) files.push(...listFiles(path));
    else if (/\.(ts|cts|mts|cjs|mjs|js)$/.test(entry) && !entry.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

/** Relative imports and re-exports of a file (static, dynamic, type-only), resolved to files of src/. */
function importsOf(file: string, known: ReadonlySet<string>): { relative: string[]; packages: string[] } {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]/g),
    ...text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((match) => match[1]);
  const local: string[] = [];
  const packages: string[] = [];
  for (const specifier of specifiers) {
    if (specifier.startsWith('.')) {
      const target = resolve(dirname(file), specifier);
      if (known.has(target)) local.push(target);
    } else packages.push(specifier);
  }
  return { relative: local, packages };
}

/** The folder a file belongs to, for the folder-level checks. */
function folderOf(file: string): string {
  const parts = relative(src, file).split('/');
  if (parts[0] === 'core') return parts.length > 2 ? `core/${parts[1]}` : 'core';
  return parts[0];
}

/** Strongly connected components with more than one node (Tarjan), i.e. the circles of a graph. */
function findCircles(nodes: readonly string[], next: (node: string) => readonly string[]): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const other of next(node)) {
      if (!index.has(other)) {
        visit(other);
        low.set(node, Math.min(low.get(node)!, low.get(other)!));
      } else if (onStack.has(other)) low.set(node, Math.min(low.get(node)!, index.get(other)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || next(node).includes(node)) circles.push(component.sort());
    }
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return circles;
}

const files = listFiles(src);
const known = new Set(files);
const graph = new Map(files.map((file) => [file, importsOf(file, known)]));
const name = (file: string) => relative(src, file);

describe('the layers of src/', () => {
  it('have no circle of imports between files', () => {
    const circles = findCircles(files, (file) => graph.get(file)!.relative);
    expect(circles.map((circle) => circle.map(name).join(' → '))).toEqual([]);
  });

  it('have no circle of imports between folders', () => {
    const edges = new Map<string, Map<string, string[]>>();
    for (const [file, { relative: targets }] of graph) {
      for (const target of targets) {
        const from = folderOf(file);
        const to = folderOf(target);
        if (from === to) continue;
        if (!edges.has(from)) edges.set(from, new Map());
        const byTarget = edges.get(from)!;
        byTarget.set(to, [...(byTarget.get(to) ?? []), `${name(file)} imports ${name(target)}`]);
      }
    }
    const folders = [...new Set(files.map(folderOf))];
    const circles = findCircles(folders, (folder) => [...(edges.get(folder)?.keys() ?? [])]);
    // Name the imports that close each circle, so the message says what to move.
    const explained = circles.map((circle) =>
      circle.flatMap((from) => circle.flatMap((to) => edges.get(from)?.get(to)?.slice(0, 3) ?? [])),
    );
    expect(explained).toEqual([]);
  });

  it('keep the engine free of adapters and of @actions/*', () => {
    const wrong = [...graph]
      .filter(([file]) => folderOf(file).startsWith('core'))
      .flatMap(([file, { relative: targets, packages }]) => [
        ...targets
          .filter((target) => !folderOf(target).startsWith('core'))
          .map((target) => `${name(file)} imports ${name(target)}`),
        ...packages
          .filter((spec) => spec.startsWith('@actions/'))
          .map((spec) => `${name(file)} imports ${spec}`),
      ]);
    expect(wrong).toEqual([]);
  });

  it('keep each adapter apart from the other', () => {
    const wrong = [...graph].flatMap(([file, { relative: targets }]) => {
      const from = folderOf(file);
      if (from !== 'actions' && from !== 'cli') return [];
      const other = from === 'actions' ? 'cli' : 'actions';
      return targets
        .filter((target) => folderOf(target) === other)
        .map((target) => `${name(file)} imports ${name(target)}`);
    });
    expect(wrong).toEqual([]);
  });

  it('read no environment variable inside the engine (the adapters pass what it needs)', () => {
    const wrong = files
      .filter((file) => folderOf(file).startsWith('core'))
      .filter((file) => /\bprocess\.env\b/.test(readFileSync(file, 'utf8')))
      .map(name);
    expect(wrong).toEqual([]);
  });
});
