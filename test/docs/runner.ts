// Runs one page's planned steps in the scratch clone, in order, the way a reader types
// them: each command in its own process group, placeholders filled from earlier output,
// promises checked, long-running commands kept in the background and stopped as Ctrl-C
// does when their block ends. Whatever fails, the page's background processes are
// stopped and its cleanup commands run.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { fillPlaceholders, type PagePlan, type PlannedBlock, type PlannedStep } from './plan';
import { groupMembers, signalGroup, waitGroupGone } from './processes';
import type { Scratch } from './scratch';

export interface Outcome { where: string; command: string; result: 'ran' | 'skipped' | 'run by CI'; note?: string; seconds?: number }

export interface RunnerOptions {
  docker: boolean;
  /** False where only docker-compose (v1) exists: `docker compose` is then run as `docker-compose`, the alternative the docs name. */
  composePlugin: boolean;
  /** Text of .ci/run, against which `run-by-ci` lines are checked. */
  ciScript: string;
  log: (line: string) => void;
}

interface Background { step: PlannedStep; command: string; pgid: number; exited: Promise<void>; output: () => string }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LEFTOVER_GRACE_MS = 3000;
const STOP_GRACE_MS = 15_000;

export class StepFailed extends Error {}

export class PageRunner {
  readonly outcomes: Outcome[] = [];
  private readonly values = new Map<string, string>();
  private readonly backgrounds: Background[] = [];
  private readonly cleanups: string[] = [];

  constructor(private readonly scratch: Scratch, private readonly options: RunnerOptions) {}

  async run(plan: PagePlan): Promise<void> {
    const errors: string[] = [];
    try {
      for (const block of plan.blocks) await this.runBlock(block);
    } catch (e) {
      errors.push((e as Error).message);
    }
    errors.push(...(await this.stopBackgrounds()));
    for (const c of this.cleanups) {
      const r = await this.exec(c, 120_000);
      this.options.log(`cleanup $ ${c} -> exit ${r.code}`);
    }
    if (errors.length) throw new StepFailed(errors.join('\n\n'));
  }

  private async runBlock(block: PlannedBlock): Promise<void> {
    const skipAll = block.skip ?? (block.needs.includes('docker') && !this.options.docker ? 'needs Docker: runs where WEIR_DOCKER_TESTS=1 (CI sets it)' : undefined);
    if (skipAll) {
      for (const s of block.steps) if (!s.hidden) this.outcomes.push({ where: s.where, command: s.command, result: 'skipped', note: skipAll });
      return;
    }
    this.cleanups.push(...block.cleanup.map((c) => this.adapt(c)));
    for (const step of block.steps) {
      if (step.skip) {
        this.outcomes.push({ where: step.where, command: step.command, result: 'skipped', note: step.skip });
      } else if (step.runByCi) {
        this.checkRunByCi(step);
        this.outcomes.push({ where: step.where, command: step.command, result: 'run by CI', note: '.ci/run runs it' });
      } else if (step.background) {
        await this.startBackground(step);
      } else {
        await this.runStep(step);
      }
    }
    // A block is one sitting at a terminal: what it left running is stopped (Ctrl-C) when it ends.
    const errors = await this.stopBackgrounds();
    if (errors.length) throw new StepFailed(errors.join('\n\n'));
  }

  /** `docker compose` as `docker-compose` where the plugin is missing; placeholders filled. */
  private adapt(command: string): string {
    let c = command;
    if (!this.options.composePlugin) c = c.replace(/\bdocker compose\b/g, 'docker-compose');
    return c;
  }

  private fill(step: PlannedStep): string {
    return fillPlaceholders(this.adapt(step.command), (name) => {
      const v = this.values.get(name);
      if (v === undefined) throw new StepFailed(`${step.where}: placeholder <${name}> has no value (its capture did not run)`);
      return v;
    });
  }

  private checkRunByCi(step: PlannedStep): void {
    const ciLines = this.options.ciScript.split('\n').map((l) => l.trim());
    for (const part of step.command.replace(/\s+#.*$/, '').split('&&').map((p) => p.trim())) {
      if (!ciLines.some((l) => l === part || l.startsWith(`${part} `))) {
        throw new StepFailed(`${step.where}: \`${step.command}\` is marked run-by-ci, but .ci/run has no line running \`${part}\``);
      }
    }
  }

  private async runStep(step: PlannedStep): Promise<void> {
    const command = this.fill(step);
    const started = Date.now();
    const deadline = started + (step.retryMs ?? 0);
    let attempts = 0;
    for (;;) {
      attempts++;
      const r = await this.exec(command, step.timeoutMs);
      if (r.leftovers.length) {
        throw new StepFailed(`${step.where}: \`${command}\` returned but left ${r.leftovers.length} process(es) running (stopped now):\n  ${r.leftovers.join('\n  ')}`);
      }
      const problem = r.timedOut
        ? `did not finish within ${step.timeoutMs / 1000} s`
        : r.code !== step.exit
          ? `exited ${r.code ?? r.signal}, expected ${step.exit}`
          : step.expects.find((re) => !re.test(r.output)) ?? step.captures.find((c) => !c.re.exec(r.output)?.[1])?.re;
      if (!problem) {
        for (const c of step.captures) this.values.set(c.name, c.re.exec(r.output)![1]!);
        const seconds = (Date.now() - started) / 1000;
        const filled = step.captures.map((c) => `<${c.name}>=${this.values.get(c.name)}`).join(' ');
        const shown = command.includes('\n') ? `${command.split('\n')[0]} ... (script of ${command.trim().split('\n').length} lines)` : command;
        this.outcomes.push({ where: step.where, command: step.hidden ? `(check) ${shown}` : shown, result: 'ran', seconds, note: [attempts > 1 ? `${attempts} tries` : '', filled].filter(Boolean).join(' ') || undefined });
        this.options.log(`${step.where} $ ${shown}  (${seconds.toFixed(1)} s${filled ? `, ${filled}` : ''})`);
        return;
      }
      if (Date.now() < deadline && !r.timedOut) {
        await sleep(1000);
        continue;
      }
      const why = typeof problem === 'string' ? problem : `output does not match ${problem}`;
      throw new StepFailed(`${step.where}: \`${command}\` ${why}${attempts > 1 ? ` (after ${attempts} tries in ${((Date.now() - started) / 1000).toFixed(0)} s)` : ''}\n--- output (last 40 lines) ---\n${tail(r.output, 40)}`);
    }
  }

  private async startBackground(step: PlannedStep): Promise<void> {
    const command = this.fill(step);
    const bg = step.background!;
    const child = spawn('bash', ['-c', command], { cwd: this.scratch.dir, env: this.scratch.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const append = (d: Buffer) => { output = (output + d.toString()).slice(-1_000_000); };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));
    this.backgrounds.push({ step, command, pgid: child.pid!, exited, output: () => output });
    const started = Date.now();
    while (!bg.until.test(output)) {
      if (gone) throw new StepFailed(`${step.where}: \`${command}\` (background) exited before its output matched ${bg.until}\n${tail(output, 40)}`);
      if (Date.now() - started > bg.withinMs) throw new StepFailed(`${step.where}: \`${command}\` (background) did not print ${bg.until} within ${bg.withinMs / 1000} s\n${tail(output, 40)}`);
      await sleep(100);
    }
    const seconds = (Date.now() - started) / 1000;
    this.outcomes.push({ where: step.where, command, result: 'ran', seconds, note: `in the background; stopped with ${bg.stop} when the block ends` });
    this.options.log(`${step.where} $ ${command} &  (ready after ${seconds.toFixed(1)} s)`);
  }

  /** Stops every background command with its signal (SIGINT is Ctrl-C); all of its processes must end. */
  private async stopBackgrounds(): Promise<string[]> {
    const errors: string[] = [];
    for (const b of this.backgrounds.splice(0).reverse()) {
      const signal = b.step.background!.stop;
      signalGroup(b.pgid, signal);
      const left = await waitGroupGone(b.pgid, STOP_GRACE_MS);
      if (left.length) {
        signalGroup(b.pgid, 'SIGKILL');
        errors.push(`${b.step.where}: \`${b.command}\` still had ${left.length} process(es) ${STOP_GRACE_MS / 1000} s after ${signal}:\n  ${left.join('\n  ')}`);
      } else {
        this.options.log(`${b.step.where}: ${signal} stopped \`${b.command}\` and all its processes`);
      }
      await Promise.race([b.exited, sleep(2000)]);
      fs.mkdirSync(`${this.scratch.dir}/../logs`, { recursive: true });
      fs.writeFileSync(`${this.scratch.dir}/../logs/background-${b.pgid}.log`, `$ ${b.command}\n${b.output()}`);
    }
    return errors;
  }

  private exec(command: string, timeoutMs: number): Promise<{ code: number | null; signal: string | null; output: string; timedOut: boolean; leftovers: string[] }> {
    return new Promise((resolve) => {
      const child = spawn('bash', ['-c', command], { cwd: this.scratch.dir, env: this.scratch.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const append = (d: Buffer) => { output = (output + d.toString()).slice(-4_000_000); };
      child.stdout.on('data', append);
      child.stderr.on('data', append);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        signalGroup(child.pid!, 'SIGKILL');
      }, timeoutMs);
      const closed = new Promise<void>((r) => child.on('close', () => r()));
      child.on('exit', async (code, signal) => {
        clearTimeout(timer);
        // A command that returned must not leave anything of its own running.
        const leftovers = await waitGroupGone(child.pid!, LEFTOVER_GRACE_MS);
        if (leftovers.length) signalGroup(child.pid!, 'SIGKILL');
        await Promise.race([closed, sleep(2000)]);
        resolve({ code, signal, output, timedOut, leftovers });
      });
    });
  }

  /** Processes of background commands still running (for the test's own safety net). */
  runningGroups(): number[] {
    return this.backgrounds.map((b) => b.pgid).filter((g) => groupMembers(g).length > 0);
  }
}

function tail(s: string, n: number): string {
  return s.split('\n').slice(-n).join('\n');
}
