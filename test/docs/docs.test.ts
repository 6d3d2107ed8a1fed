// The docs are a test: every shell block of README.md and docs/*.md runs as written, in
// order, in a fresh clone with a fresh HOME and the default ports, and what each block
// promises is checked. The convention for the `<!-- doc-test ... -->` comments is in
// docs/doc-tests.md. Pages run one after another in the same clone, README first, as a
// reader who followed the README goes on to the other pages.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { planPage, type PagePlan } from './plan';
import { PageRunner, type Outcome } from './runner';
import { assertPortsFree, makeScratch, sourceCommit, type Scratch } from './scratch';

const ROOT = path.resolve(__dirname, '../..');
const ALL_PAGES = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
// WEIR_DOC_TESTS_PAGES=README.md,docs/docker.md runs some pages only (development).
const PAGES = process.env.WEIR_DOC_TESTS_PAGES ? ALL_PAGES.filter((p) => process.env.WEIR_DOC_TESTS_PAGES!.split(',').includes(p)) : ALL_PAGES;
const DOCKER = process.env.WEIR_DOCKER_TESTS === '1';
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'doc-tests');

const DEFAULT_PORTS = [{ port: 6123, what: 'jobmanager.rpc.port' }, { port: 8081, what: 'rest.port' }, { port: 9999, what: 'the README\'s weir lines --port 9999' }];
const log = (line: string) => process.stderr.write(`[doc-test] ${line}\n`);
let scratch: Scratch | undefined;
let composePlugin = true;
const outcomes: Outcome[] = [];

// Checked before anything runs, so a page the test cannot follow fails in a second.
const plans = new Map<string, PagePlan>(ALL_PAGES.map((p) => [p, planPage(p, fs.readFileSync(path.join(ROOT, p), 'utf8'))]));

describe.skipIf(process.env.WEIR_DOC_TESTS === '0')('the docs, run as written', () => {
  beforeAll(async () => {
    await assertPortsFree(DEFAULT_PORTS);
    const source = sourceCommit(ROOT);
    scratch = makeScratch(ROOT, source);
    log(`following the docs of ${source.description} in ${scratch.dir}`);
    if (DOCKER) {
      // The engine is the machine's, started before the docs are followed, as CI does.
      execFileSync('bash', [path.join(ROOT, 'scripts/ci/ensure-docker.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
      composePlugin = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;
      if (!composePlugin) log('no `docker compose` plugin here: `docker compose` lines run as `docker-compose`, the alternative the docs name');
    }
  }, 600_000);

  afterAll(() => {
    fs.rmSync(ARTIFACTS, { recursive: true, force: true });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const table = outcomes.map((o) => `${o.result.padEnd(9)} ${o.where.padEnd(24)} ${o.seconds !== undefined ? `${o.seconds.toFixed(1).padStart(6)} s` : '        '}  ${o.command}${o.note ? `   [${o.note}]` : ''}`);
    fs.writeFileSync(path.join(ARTIFACTS, 'outcomes.txt'), table.join('\n') + '\n');
    log(`outcomes (also in test-artifacts/doc-tests/outcomes.txt):\n${table.join('\n')}`);
    if (!scratch) return;
    if (DOCKER) spawnSync('docker', ['image', 'rm', '-f', scratch.env.WEIR_IMAGE!], { stdio: 'ignore' });
    const logs = path.join(path.dirname(scratch.dir), 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(ARTIFACTS, 'logs'), { recursive: true });
    // The services' own logs (weir cluster writes them there), for a failure's cause.
    const weirLogs = path.join(scratch.dir, '.weir', 'logs');
    if (fs.existsSync(weirLogs)) fs.cpSync(weirLogs, path.join(ARTIFACTS, 'weir-logs'), { recursive: true });
    if (process.env.WEIR_DOC_TESTS_KEEP === '1') log(`WEIR_DOC_TESTS_KEEP=1: left ${scratch.dir}`);
    else {
      try {
        scratch.remove();
      } catch (e) {
        // Files the containers wrote as uid 1000 may not be ours to remove when we are not root.
        log(`could not remove ${scratch.dir}: ${(e as Error).message}`);
      }
    }
  }, 120_000);

  for (const page of PAGES) {
    it(`${page}: every shell block runs and shows what it says`, async () => {
      const runner = new PageRunner(scratch!, {
        docker: DOCKER,
        composePlugin,
        ciScript: fs.readFileSync(path.join(scratch!.dir, '.ci/run'), 'utf8'),
        log,
      });
      try {
        // Whatever the page before started must be gone, and nobody else may hold them.
        await assertPortsFree(DEFAULT_PORTS);
        await runner.run(plans.get(page)!);
      } finally {
        outcomes.push(...runner.outcomes);
      }
    }, 1_800_000);
  }
});
