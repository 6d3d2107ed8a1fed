// The doc-test comment above a shell block, parsed. Grammar (docs/doc-tests.md has the
// reference): one directive per line,
//   skip: REASON                 the block is not run, and the report says why
//   needs: docker                runs where Docker tests run (WEIR_DOCKER_TESTS=1), else skipped
//   cleanup: `COMMAND`           run when the page is done, even after a failure
//   script: ACTIONS              the whole block runs as one bash script, as pasted into one
//                                terminal (variables and $! carry over); ACTIONS apply to it
//   `SELECTOR`: ACTION ...       actions for the one command line that contains SELECTOR
// ACTIONs: background until=/RE/ [stop=SIGINT] [within=60s] | <NAME>=/RE/ (fills the
// placeholder <NAME> of later lines from group 1) | expect=/RE/ | exit=N | retry=30s |
// timeout=300s | skip="REASON" | run-by-ci | then=`COMMAND` (a follow-up check; the actions
// after it are its own).
import { DocFormatError } from './fenced-blocks';

export interface Step {
  /** Shell text; placeholders `<name>` are filled when the step runs. */
  command: string;
  /** True for a `then=` follow-up the page does not show. */
  hidden: boolean;
  expects: RegExp[];
  captures: { name: string; re: RegExp }[];
  exit: number;
  retryMs?: number;
  timeoutMs: number;
  background?: { until: RegExp; stop: NodeJS.Signals; withinMs: number };
  skip?: string;
  runByCi?: boolean;
}

export interface LineDirectives { selector: string; steps: Partial<Step>[] }

export interface Annotation {
  skip?: string;
  needs: string[];
  cleanup: string[];
  lines: LineDirectives[];
  /** `script: ACTIONS`: the block runs as one script (one terminal), with these actions. */
  script?: Partial<Step>;
}

const DEFAULT_TIMEOUT_MS = 300_000;

export function parseAnnotation(where: string, body: string | undefined): Annotation {
  const a: Annotation = { needs: [], cleanup: [], lines: [] };
  if (body === undefined) return a;
  for (const [i, raw] of body.split('\n').entries()) {
    const text = raw.trim();
    if (!text) continue;
    const at = `${where} (doc-test line ${i + 1})`;
    if (text.startsWith('`')) {
      const end = text.indexOf('`', 1);
      if (end < 0 || text[end + 1] !== ':') throw new DocFormatError(`${at}: expected \`SELECTOR\`: ACTIONS`);
      a.lines.push({ selector: text.slice(1, end), steps: parseActions(at, text.slice(end + 2)) });
      continue;
    }
    const m = /^(skip|needs|cleanup|script):\s*(.*)$/.exec(text);
    if (!m) throw new DocFormatError(`${at}: unknown directive "${text}" (skip:, needs:, cleanup:, script: or \`SELECTOR\`: ...)`);
    const value = m[2]!.trim();
    if (m[1] === 'script') {
      const steps = parseActions(at, value);
      if (steps.length > 1 || steps[0]!.background) throw new DocFormatError(`${at}: script: takes expect, exit, retry and timeout only`);
      a.script = steps[0];
    } else if (!value) throw new DocFormatError(`${at}: ${m[1]}: needs a value`);
    else if (m[1] === 'skip') a.skip = value;
    else if (m[1] === 'needs') {
      if (value !== 'docker') throw new DocFormatError(`${at}: needs: only "docker" is known`);
      a.needs.push(value);
    } else {
      const cmd = /^`(.+)`$/.exec(value);
      if (!cmd) throw new DocFormatError(`${at}: cleanup: takes a \`COMMAND\``);
      a.cleanup.push(cmd[1]!);
    }
  }
  return a;
}

/** Splits `key=value` tokens; values are /regex/flags, "string", `command` or bare words. */
function tokens(at: string, s: string): { key: string; value?: string; regex?: RegExp }[] {
  const out: { key: string; value?: string; regex?: RegExp }[] = [];
  let i = 0;
  while (i < s.length) {
    if (/\s/.test(s[i]!)) { i++; continue; }
    let key: string;
    if (s[i] === '<') {
      const end = s.indexOf('>', i);
      if (end < 0) throw new DocFormatError(`${at}: unclosed <placeholder>`);
      key = s.slice(i, end + 1);
      i = end + 1;
    } else {
      const m = /^[a-z-]+/.exec(s.slice(i));
      if (!m) throw new DocFormatError(`${at}: cannot read "${s.slice(i)}"`);
      key = m[0];
      i += key.length;
    }
    if (s[i] !== '=') { out.push({ key }); continue; }
    i++;
    const open = s[i];
    if (open === '/') {
      let j = i + 1;
      while (j < s.length && s[j] !== '/') j += s[j] === '\\' ? 2 : 1;
      if (j >= s.length) throw new DocFormatError(`${at}: unclosed /regex/`);
      const flags = /^[a-z]*/.exec(s.slice(j + 1))![0];
      out.push({ key, regex: new RegExp(s.slice(i + 1, j), flags) });
      i = j + 1 + flags.length;
    } else if (open === '"' || open === '`') {
      const end = s.indexOf(open, i + 1);
      if (end < 0) throw new DocFormatError(`${at}: unclosed ${open}`);
      out.push({ key, value: s.slice(i + 1, end) });
      i = end + 1;
    } else {
      const m = /^\S+/.exec(s.slice(i))!;
      out.push({ key, value: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

function duration(at: string, v: string | undefined): number {
  const m = /^(\d+)(ms|s|min)$/.exec(v ?? '');
  if (!m) throw new DocFormatError(`${at}: duration "${v}" should read like 500ms, 30s or 5min`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

function parseActions(at: string, s: string): Partial<Step>[] {
  const steps: Partial<Step>[] = [{}];
  let step = steps[0]!;
  for (const t of tokens(at, s)) {
    const need = (what: 'regex' | 'value') => {
      if (what === 'regex' && !t.regex) throw new DocFormatError(`${at}: ${t.key}= takes a /regex/`);
      if (what === 'value' && t.value === undefined) throw new DocFormatError(`${at}: ${t.key}= takes a value`);
    };
    if (t.key.startsWith('<')) {
      need('regex');
      (step.captures ??= []).push({ name: t.key.slice(1, -1), re: t.regex! });
    } else if (t.key === 'expect') {
      need('regex');
      (step.expects ??= []).push(t.regex!);
    } else if (t.key === 'exit') {
      need('value');
      step.exit = Number(t.value);
    } else if (t.key === 'retry') {
      step.retryMs = duration(at, t.value);
    } else if (t.key === 'timeout') {
      step.timeoutMs = duration(at, t.value);
    } else if (t.key === 'skip') {
      need('value');
      step.skip = t.value;
    } else if (t.key === 'run-by-ci') {
      step.runByCi = true;
    } else if (t.key === 'background') {
      step.background = { until: /(?:)/, stop: 'SIGINT', withinMs: 60_000 };
    } else if (t.key === 'until' || t.key === 'stop' || t.key === 'within') {
      if (!step.background) throw new DocFormatError(`${at}: ${t.key}= belongs to background`);
      if (t.key === 'until') { need('regex'); step.background.until = t.regex!; }
      else if (t.key === 'stop') { need('value'); step.background.stop = t.value as NodeJS.Signals; }
      else step.background.withinMs = duration(at, t.value);
    } else if (t.key === 'then') {
      need('value');
      step = { command: t.value!, hidden: true };
      steps.push(step);
    } else {
      throw new DocFormatError(`${at}: unknown action "${t.key}"`);
    }
  }
  return steps;
}

/** A step with every default filled in. */
export function completeStep(command: string, hidden: boolean, partial: Partial<Step>): Step {
  return {
    command: partial.command ?? command,
    hidden: partial.hidden ?? hidden,
    expects: partial.expects ?? [],
    captures: partial.captures ?? [],
    exit: partial.exit ?? 0,
    retryMs: partial.retryMs,
    timeoutMs: partial.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    background: partial.background,
    skip: partial.skip,
    runByCi: partial.runByCi,
  };
}
