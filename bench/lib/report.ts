import { readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { docsDir } from './paths.js';

/** One figure of the report: what was promised, what was measured, and whether that is enough. */
export interface FigureReport {
  key: string;
  title: string;
  target: string;
  /** The headline number, e.g. "32 ms (28–40)". */
  measured: string;
  /** undefined when the figure could not be measured. */
  met: boolean | undefined;
  /** "met" or "missed by …" in words. */
  verdict: string;
  /** How it was measured. */
  method: string;
  /** Markdown: per-run table and anything else worth showing. */
  details: string;
  /** Why a target is missed (measured evidence, not guesses); empty when met. */
  why?: string;
  data: unknown;
}

export interface Machine {
  cpu: string;
  cores: number;
  memGiB: number;
  kernel: string;
  node: string;
  docker: string;
}

export interface LoadNote {
  /** 1-minute load average when the figure started and ended. */
  start: number;
  end: number;
}

export async function machine(docker: Docker): Promise<Machine> {
  const v = await docker.version().catch(() => undefined);
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    docker: v ? `${v.Version} (API ${v.ApiVersion})` : 'unknown',
  };
}

export const load1 = (): number => Math.round(loadavg()[0]! * 100) / 100;

const SOAK_START = '<!-- soak:start -->';
const SOAK_END = '<!-- soak:end -->';

export interface BenchReport {
  generatedAt: string;
  mode: 'quick' | 'full';
  machine: Machine;
  command: string;
  durationSec: number;
  figures: (FigureReport & { load: LoadNote })[];
}

export function renderMarkdown(r: BenchReport): string {
  const lines: string[] = [];
  lines.push('# Benchmarks', '');
  lines.push(
    `Written by \`${r.command}\` on ${r.generatedAt} (${r.mode} mode, ${Math.round(r.durationSec)} s). ` +
      'Regenerate with `npm run bench` (about 25 minutes; `npm run bench -- --quick` for a smoke run). ' +
      'Every figure is measured on this machine in the same run as its baseline; each is the median over ' +
      'several runs, with the smallest and largest run in parentheses: `median (min–max)`.',
    '',
  );
  const m = r.machine;
  lines.push(
    `Machine: ${m.cores} × ${m.cpu}, ${m.memGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}, Docker ${m.docker}.`,
    '',
  );
  const loads = r.figures.map((f) => `${f.key} ${f.load.start}→${f.load.end}`).join(', ');
  lines.push(
    `Load average (1 min) at the start and end of each figure: ${loads}. A load above the core count ` +
      'means other processes (e.g. test suites) competed for the CPU, which inflates latencies.',
    '',
  );
  lines.push('| # | Figure | Target | Measured | Met? |', '|---|---|---|---|---|');
  r.figures.forEach((f, i) => {
    const met = f.met === undefined ? 'n/a' : f.met ? '✅ met' : `❌ ${f.verdict}`;
    lines.push(`| ${i + 1} | ${f.title} | ${f.target} | ${f.measured} | ${met} |`);
  });
  lines.push('');
  r.figures.forEach((f, i) => {
    lines.push(`## ${i + 1}. ${f.title}`, '');
    lines.push(`**Target:** ${f.target}. **Measured:** ${f.measured}. **Verdict:** ${f.verdict}.`, '');
    lines.push(`**Method.** ${f.method}`, '');
    lines.push(f.details, '');
    if (f.why) lines.push(`**Why.** ${f.why}`, '');
  });
  return `${lines.join('\n').trimEnd()}\n`;
}

/** docs/ by default; quick and partial runs write elsewhere so they never replace the published report. */
const files = (dir = docsDir) => ({ md: join(dir, 'benchmarks.md'), json: join(dir, 'benchmarks.json') });

async function readOr(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined);
}

/** Writes the bench report, keeping the soak section (and its JSON) a previous `npm run soak` wrote. */
export async function writeBenchReport(r: BenchReport, dir?: string): Promise<{ md: string; json: string }> {
  const { md: mdFile, json: jsonFile } = files(dir);
  const old = await readOr(mdFile);
  const soak = old ? sectionBetween(old, SOAK_START, SOAK_END) : undefined;
  await writeFile(mdFile, soak ? `${renderMarkdown(r)}\n${soak}\n` : renderMarkdown(r));
  const oldJson = JSON.parse((await readOr(jsonFile)) ?? '{}') as { soak?: unknown };
  await writeFile(jsonFile, `${JSON.stringify({ ...r, soak: oldJson.soak }, null, 2)}\n`);
  return { md: mdFile, json: jsonFile };
}

function sectionBetween(text: string, start: string, end: string): string | undefined {
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  return i >= 0 && j > i ? text.slice(i, j + end.length) : undefined;
}

/** A Markdown table from a header row and rows of cells. */
export function table(header: string[], rows: (string | number)[][]): string {
  const out = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) out.push(`| ${r.join(' | ')} |`);
  return out.join('\n');
}
