import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The seams between backends/ and src/, measured on the source:
 * - backends/ uses only the kernel and shared utilities of src/ (never the config loader, validate, the
 *   daemon, the scaler…), so a backend is a plug-in and not a part of the core;
 * - src/config and src/validate reach backends only through backends/index.ts;
 * - backends/index.ts and what it loads statically stay light: a backend's implementation and its
 *   heavy dependencies load only when a scale set uses it (the footprint benchmark's point).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What backends/ may import from src/: the kernel, the schema and check kits, and shared utilities. */
const SHARED_DIRS = ['src/kernel/', 'src/schema/', 'src/checks/', 'src/util/', 'src/net/'];
const SHARED_FILES = [
  'src/log.ts',
  'src/secret.ts',
  'src/labels.ts',
  'src/version.ts',
  // Atomic writes of state files: a utility that lives beside the daemon's own state files.
  'src/state/atomic-file.ts',
];

/** What must not load with the config: implementations and their dependencies. */
const HEAVY_PACKAGES = ['dockerode', 'execa', 'undici'];
const IMPLEMENTATION = /^backends\/(docker|tart|dedalus)\/(index|backend|validate)\.ts$/;

interface Import {
  /** Repo-relative .ts path for a relative specifier, else the package name. */
  target: string;
  /** `import type` / `export type`: erased at run time. */
  typeOnly: boolean;
  dynamic: boolean;
}

function importsOf(file: string, text = readFileSync(join(ROOT, file), 'utf8')): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: Import[] = [];
  const add = (spec: string, typeOnly: boolean, dynamic: boolean) => {
    const target = spec.startsWith('.')
      ? relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\.js$/, '.ts')
      : spec
          .split('/')
          .slice(0, spec.startsWith('@') ? 2 : 1)
          .join('/');
    out.push({ target, typeOnly, dynamic });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.importClause?.isTypeOnly ?? false, false);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      add(node.moduleSpecifier.text, node.isTypeOnly, false);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, false, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** `backends/… → src/…` imports outside the kernel and the shared utilities. */
function backendViolations(file: string, imports: Import[]): string[] {
  return imports
    .filter((i) => i.target.startsWith('src/'))
    .filter((i) => !SHARED_DIRS.some((d) => i.target.startsWith(d)) && !SHARED_FILES.includes(i.target))
    .map((i) => `${file} → ${i.target}`);
}

/** `src/config|validate → backends/…` imports other than backends/index.ts. */
function doorViolations(file: string, imports: Import[]): string[] {
  return imports
    .filter((i) => i.target.startsWith('backends/') && i.target !== 'backends/index.ts')
    .map((i) => `${file} → ${i.target}`);
}

/** Every file and package loaded at run time by importing `entry`, without its dynamic imports. */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.endsWith('.ts')) continue; // a package: its own imports are not ours to follow
    for (const i of importsOf(file)) if (!i.typeOnly && !i.dynamic) queue.push(i.target);
  }
  return seen;
}

describe('import rules between backends/ and src/', () => {
  const backendFiles = sourceFiles('backends');

  it('sees the imports it judges (a violation in a file would be reported)', () => {
    expect(backendFiles.length).toBeGreaterThan(50);
    const planted = importsOf(
      'backends/docker/planted.ts',
      "import type { X } from '../../src/config/types.js';\nconst m = await import('../../src/daemon/daemon.js');\nexport { y } from '../../src/kernel/abort.js';\n",
    );
    expect(backendViolations('backends/docker/planted.ts', planted)).toEqual([
      'backends/docker/planted.ts → src/config/types.ts',
      'backends/docker/planted.ts → src/daemon/daemon.ts',
    ]);
    expect(
      doorViolations(
        'src/config/x.ts',
        importsOf('src/config/x.ts', "import '../../backends/docker/config.js';"),
      ),
    ).toEqual(['src/config/x.ts → backends/docker/config.ts']);
  });

  it('backends/ imports nothing from src/ but the kernel and shared utilities', () => {
    const violations = backendFiles.flatMap((f) => backendViolations(f, importsOf(f)));
    expect(violations).toEqual([]);
  });

  it('src/config and src/validate reach backends only through backends/index.ts', () => {
    const files = [...sourceFiles('src/config'), ...sourceFiles('src/validate')];
    const imports = files.map((f) => ({ file: f, imports: importsOf(f) }));
    expect(imports.flatMap(({ file, imports: i }) => doorViolations(file, i))).toEqual([]);
    // They do use the door: the schema is built from the backends' tables.
    expect(imports.find((f) => f.file === 'src/config/schema.ts')?.imports.map((i) => i.target)).toContain(
      'backends/index.ts',
    );
  });

  it('loading the backend registry (with the config) loads no implementation and no heavy client', () => {
    const loaded = [...staticClosure('backends/index.ts')];
    expect(loaded).toContain('backends/docker/config.ts');
    expect(loaded).toContain('zod');
    expect(loaded.filter((f) => IMPLEMENTATION.test(f) || HEAVY_PACKAGES.includes(f))).toEqual([]);
    // …and each module does load its implementation on demand.
    for (const kind of ['docker', 'tart', 'dedalus']) {
      const dynamic = importsOf(`backends/${kind}/module.ts`).filter((i) => i.dynamic);
      expect(dynamic.map((i) => i.target).sort()).toEqual([
        `backends/${kind}/index.ts`,
        `backends/${kind}/validate.ts`,
      ]);
    }
  });
});
