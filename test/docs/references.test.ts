import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every `§` reference in the code must resolve. A bare `§n` or `§n.m` cites a heading of
 * docs/protocol.md; `§13.k` cites item k of its conformance checklist; a range (`§13.44–54`,
 * `§13.14–§13.19`, `§2.3–2.4`, `§5–§6`) cites everything in it. A reference written after a document
 * name (`other.md §A.4`) cites that document, which must exist in the repository and have the heading.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROTOCOL = 'docs/protocol.md';
const SCANNED_DIRS = ['src', 'backends', 'cmd', 'test', 'bench', 'scripts'];
/** This file states unresolvable references on purpose, to show they are caught. */
const SELF = 'test/docs/references.test.ts';
/** The section whose numbered list is the checklist: `§13.k` is item k, not a heading. */
const CHECKLIST_SECTION = '13';

interface Doc {
  /** Heading numbers: `0`, `3`, `3.5`, `A.4`. */
  headings: Set<string>;
  /** Numbered items of the checklist section, in document order. */
  items: number[];
}

interface Ref {
  /** The document named before the `§`, if any (`dedalus-machines.md`). */
  file: string | undefined;
  text: string;
  major: string;
  minor: number | undefined;
  /** The end of a range: `54` in `§13.44–54`, `13.19` in `§13.14–§13.19`, `6` in `§5–§6`. */
  end: { major: string | undefined; minor: number } | undefined;
}

const HEADING = /^#{1,6}\s+((?:\d+|[A-Z])(?:\.\d+)*)\.?\s/;
const ITEM = /^(\d+)\.\s/;
/**
 * `[doc.md ]§major[.minor][–§end]`. The major is a number or an appendix letter; a range uses an en dash
 * or a hyphen and may repeat the `§` and the major.
 */
const REFERENCE = /(?:([\w./-]+\.md)\s+)?§\s?(\d+|[A-Z])(?:\.(\d+))?(?:\s?[–-]\s?§?(?:(\d+)\.)?(\d+))?/g;

function parseDoc(text: string): Doc {
  const headings = new Set<string>();
  const items: number[] = [];
  let section: string | undefined;
  for (const line of text.split('\n')) {
    const h = HEADING.exec(line);
    if (h?.[1]) {
      headings.add(h[1]);
      if (/^##?\s/.test(line)) section = h[1].split('.')[0];
      continue;
    }
    const item = ITEM.exec(line);
    if (item?.[1] && section === CHECKLIST_SECTION) items.push(Number(item[1]));
  }
  return { headings, items };
}

function findReferences(line: string): Ref[] {
  const refs: Ref[] = [];
  for (const m of line.matchAll(REFERENCE)) {
    const [text, file, major, minor, endMajor, endLast] = m;
    if (major === undefined) continue;
    let end: Ref['end'];
    if (endLast !== undefined) {
      // `–13.19`, `–§13.19`, `–6.2`: both parts. `–54` continues the start's section; `–§6` ends a
      // range of whole sections.
      if (endMajor !== undefined) end = { major: endMajor, minor: Number(endLast) };
      else if (minor !== undefined) end = { major: undefined, minor: Number(endLast) };
      else end = { major: endLast, minor: Number.NaN };
    }
    refs.push({ file, text, major, minor: minor === undefined ? undefined : Number(minor), end });
  }
  return refs;
}

/** Why `ref` does not resolve in `doc`, or undefined when it does. */
function unresolved(ref: Ref, doc: Doc): string | undefined {
  const missing: string[] = [];
  const hasHeading = (n: string) => doc.headings.has(n) || missing.push(`no heading ${n}`);
  const hasItem = (k: number) => doc.items.includes(k) || missing.push(`no checklist item ${k}`);

  if (ref.minor === undefined) {
    // §n or §n–§m: whole sections.
    const last = ref.end?.major ?? ref.major;
    if (/^\d+$/.test(ref.major) && /^\d+$/.test(last)) {
      for (let n = Number(ref.major); n <= Number(last); n++) hasHeading(String(n));
      if (Number(last) < Number(ref.major)) missing.push('a backwards range');
    } else hasHeading(ref.major);
  } else {
    const endMajor = ref.end?.major ?? ref.major;
    const last = ref.end?.minor ?? ref.minor;
    if (endMajor !== ref.major) {
      // A range across sections (§6.4–7.1): both ends must exist.
      hasHeading(`${ref.major}.${ref.minor}`);
      hasHeading(`${endMajor}.${last}`);
    } else {
      if (last < ref.minor) missing.push('a backwards range');
      for (let k = ref.minor; k <= last; k++) {
        if (ref.major === CHECKLIST_SECTION) hasItem(k);
        else hasHeading(`${ref.major}.${k}`);
      }
    }
  }
  return missing.length === 0 ? undefined : missing.join(', ');
}

/** The repository file a reference's document name points at: repo-relative, under docs/, or beside `from`. */
function locate(name: string, from: string): string | undefined {
  const candidates = [name, join('docs', name), join(dirname(from), name)];
  return candidates.find((c) => existsSync(join(ROOT, c)));
}

const docs = new Map<string, Doc>();
function loadDoc(path: string): Doc {
  let doc = docs.get(path);
  if (!doc) {
    doc = parseDoc(readFileSync(join(ROOT, path), 'utf8'));
    docs.set(path, doc);
  }
  return doc;
}

/** Every reference of `text` (a file at repo path `from`) that does not resolve, as `from:line: ref: why`. */
function checkText(text: string, from: string): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const ref of findReferences(line)) {
      const where = `${from}:${i + 1}: ${ref.text.trim()}`;
      const docPath = ref.file === undefined ? PROTOCOL : locate(ref.file, from);
      if (docPath === undefined) {
        problems.push(`${where}: ${ref.file} is not in the repository`);
        continue;
      }
      const why = unresolved(ref, loadDoc(docPath));
      if (why) problems.push(`${where}: ${why} in ${docPath}`);
    }
  });
  return problems;
}

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) out.push(path);
    }
  };
  for (const dir of SCANNED_DIRS) if (existsSync(join(ROOT, dir))) walk(dir);
  return out.filter((f) => f !== SELF).sort();
}

describe('docs/protocol.md', () => {
  const doc = loadDoc(PROTOCOL);

  it('has sections §0 to §13 and the checklist items 1 to 54, in order and without gaps', () => {
    for (let n = 0; n <= 13; n++) expect(doc.headings, `heading ${n}`).toContain(String(n));
    expect(doc.items).toEqual(Array.from({ length: 54 }, (_, i) => i + 1));
  });

  it('resolves its own references', () => {
    expect(checkText(readFileSync(join(ROOT, PROTOCOL), 'utf8'), PROTOCOL)).toEqual([]);
  });
});

describe('§ references in the code', () => {
  it('finds the references it is meant to check', () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(100);
    const count = files.reduce((n, f) => n + findReferences(readFileSync(join(ROOT, f), 'utf8')).length, 0);
    expect(count).toBeGreaterThan(100);
  });

  it('all resolve to a section, a checklist item or an existing document', () => {
    const problems = sourceFiles().flatMap((f) => checkText(readFileSync(join(ROOT, f), 'utf8'), f));
    expect(problems).toEqual([]);
  });

  it('reports a reference that does not resolve, and only those', () => {
    const bad = [
      '// §14 has no section',
      '// §3.9 has no subsection',
      '// §13.55 is past the checklist',
      '// §13.50–56 runs past it',
      '// §13.14–§13.99 too',
      '// §12–§14 whole sections, one missing',
      '// spec §A.10 #2 is not a section of the protocol',
      '// see nowhere.md §1',
      '// shared/specs/dedalus-machines.md §A.4',
    ];
    const good = [
      '// §0, §3.5, §13 and §13.44',
      '/** §13.44–54 and §13.14–§13.19 and (§2.3–2.4) and §5–§6 and §6.1–6.2, and §3.5. */',
      "it('§13.15 %i is retried')",
    ];
    const problems = checkText([...bad, ...good].join('\n'), 'test/example.ts');
    expect(problems.map((p) => Number(p.split(':')[1]))).toEqual(bad.map((_, i) => i + 1));
    expect(problems[3]).toContain('no checklist item 55');
    expect(problems[7]).toContain('nowhere.md is not in the repository');
  });
});

/**
 * A comment that cites what is not in the repository cannot be checked by a reader: another project's
 * weak points or bugs by number, notes outside the repository, or a source file that does not exist.
 */
const CITES_OUTSIDE = [
  { pattern: /weak point \d/i, why: "cites another project's weak point by number" },
  { pattern: /\bbug \d+\b/i, why: "cites another project's bug by number" },
  { pattern: /shared\/specs|research note|scaleset-protocol\.md/, why: 'cites notes outside the repository' },
];
/** A bare source file name in a comment (`problems.ts`): some file of that name must exist. */
const FILE_NAME = /(?<![\w/.-])([a-z][\w-]*\.ts)\b/g;

function allFileNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.') || e.name === 'dist') continue;
      if (e.isDirectory()) walk(join(dir, e.name));
      else names.add(e.name);
    }
  };
  walk('.');
  return names;
}

function stalePointers(text: string, from: string, names: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    const comment = /(\/\/|\/\*\*?|^\s*\*)(.*)$/.exec(line)?.[2];
    if (comment === undefined) return;
    for (const { pattern, why } of CITES_OUTSIDE) {
      if (pattern.test(comment)) problems.push(`${from}:${i + 1}: ${why}`);
    }
    for (const m of comment.matchAll(FILE_NAME)) {
      const name = m[1] as string;
      if (!names.has(name)) problems.push(`${from}:${i + 1}: ${name} does not exist`);
    }
  });
  return problems;
}

describe('comments point at what the repository has', () => {
  it('no comment cites weak points or bugs by number, notes outside the repository, or missing files', () => {
    const names = allFileNames();
    const problems = sourceFiles().flatMap((f) =>
      stalePointers(readFileSync(join(ROOT, f), 'utf8'), f, names),
    );
    expect(problems).toEqual([]);
  });

  it('catches each kind', () => {
    const names = new Set(['issues.ts']);
    const text = [
      '// drops the batch (runscaler weak point 3)',
      '/** its bug 8 */',
      ' * see shared/specs/x.md',
      '// see problems.ts, and issues.ts',
      "const x = 'problems.ts'; // a string, not a comment",
    ].join('\n');
    expect(stalePointers(text, 'a.ts', names)).toEqual([
      "a.ts:1: cites another project's weak point by number",
      "a.ts:2: cites another project's bug by number",
      'a.ts:3: cites notes outside the repository',
      'a.ts:4: problems.ts does not exist',
    ]);
  });
});
