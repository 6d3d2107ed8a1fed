// From a page's fenced blocks to the steps the doc test runs, checked before anything
// runs: every shell block is run unless its annotation says why not, every placeholder has
// an earlier capture, every selector names exactly one command line.
import { parseAnnotation, completeStep, type Step } from './annotation';
import { DocFormatError, SHELL_LANGS, SHOWN_LANGS, fencedBlocks, type FencedBlock } from './fenced-blocks';

export interface PlannedStep extends Step {
  /** Where the command is written, `README.md:27`. */
  where: string;
}

export interface PlannedBlock {
  where: string;
  skip?: string;
  needs: string[];
  cleanup: string[];
  steps: PlannedStep[];
}

export interface PagePlan {
  file: string;
  blocks: PlannedBlock[];
  /** Code blocks in other languages, which are shown and not run (reported). */
  shown: string[];
}

/** Command lines of a shell block: blank and comment-only lines dropped, `\` continuations joined. */
export function commandLines(text: string): { line: number; command: string }[] {
  const out: { line: number; command: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let command = lines[i]!;
    while (/\\\s*$/.test(command) && i + 1 < lines.length) command = command.replace(/\\\s*$/, ' ') + lines[++i]!.trim();
    if (!command.trim() || command.trim().startsWith('#')) continue;
    out.push({ line: start, command: command.trim() });
  }
  return out;
}

/** `<job-id>`, `<pid of a TaskManager>`; not inside single quotes, where `'<title>'` is text. */
const PLACEHOLDER = /'[^']*'|<([A-Za-z][\w -]*)>/g;

export function placeholders(command: string): string[] {
  return [...command.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((n): n is string => n !== undefined);
}

export function fillPlaceholders(command: string, value: (name: string) => string): string {
  return command.replace(PLACEHOLDER, (whole, name: string | undefined) => (name === undefined ? whole : value(name)));
}

export function planPage(file: string, markdown: string): PagePlan {
  const plan: PagePlan = { file, blocks: [], shown: [] };
  const captured = new Set<string>();
  for (const block of fencedBlocks(file, markdown)) {
    const where = `${file}:${block.line}`;
    if (!block.lang) {
      throw new DocFormatError(`${where}: code block without a language: mark commands \`sh\` (they are run) and output \`text\``);
    }
    if (!SHELL_LANGS.has(block.lang)) {
      if (!SHOWN_LANGS.has(block.lang)) throw new DocFormatError(`${where}: unknown code block language "${block.lang}"`);
      if (block.annotation !== undefined) throw new DocFormatError(`${where}: a doc-test comment above a ${block.lang} block, which is never run`);
      plan.shown.push(`${where} (${block.lang})`);
      continue;
    }
    plan.blocks.push(planBlock(block, where, captured));
  }
  return plan;
}

function planBlock(block: FencedBlock, where: string, captured: Set<string>): PlannedBlock {
  const annotation = parseAnnotation(`${block.file}:${block.annotationLine ?? block.line}`, block.annotation);
  const lines = commandLines(block.text);
  if (annotation.script) {
    if (annotation.lines.length) throw new DocFormatError(`${where}: a script block takes no per-line directives`);
    const step = { ...completeStep(block.text, false, annotation.script), where: `${block.file}:${block.line + 1}` };
    for (const name of annotation.skip ? [] : placeholders(step.command)) {
      if (!captured.has(name)) throw new DocFormatError(`${step.where}: placeholder <${name}> has no value`);
    }
    for (const c of step.captures) captured.add(c.name);
    return { where, skip: annotation.skip, needs: annotation.needs, cleanup: annotation.cleanup, steps: [step] };
  }
  const planned: PlannedBlock = { where, skip: annotation.skip, needs: annotation.needs, cleanup: annotation.cleanup, steps: [] };
  const directives = new Map<number, (typeof annotation.lines)[number]>();
  for (const d of annotation.lines) {
    const hits = lines.filter((l) => l.command.includes(d.selector));
    if (hits.length !== 1) {
      throw new DocFormatError(`${where}: doc-test selector \`${d.selector}\` matches ${hits.length} command lines of the block; it must match exactly one`);
    }
    if (directives.has(hits[0]!.line)) throw new DocFormatError(`${where}: two doc-test directives for \`${hits[0]!.command}\``);
    directives.set(hits[0]!.line, d);
  }
  for (const { line, command } of lines) {
    const lineWhere = `${block.file}:${block.line + 1 + line}`;
    const parts = directives.get(line)?.steps ?? [{}];
    for (const [i, part] of parts.entries()) {
      const step = { ...completeStep(command, i > 0, part), where: lineWhere };
      if (!annotation.skip && !step.skip && !step.runByCi) {
        for (const name of placeholders(step.command)) {
          if (!captured.has(name)) {
            throw new DocFormatError(`${lineWhere}: placeholder <${name}> has no value: capture it from an earlier command's output (\`SELECTOR\`: <${name}>=/RE/)`);
          }
        }
      }
      for (const c of step.captures) captured.add(c.name);
      planned.steps.push(step);
    }
  }
  return planned;
}
