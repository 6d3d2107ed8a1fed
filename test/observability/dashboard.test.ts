import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES, TestCluster, waitFor } from '../harness';

/**
 * Drives the web dashboard in headless Chromium (Debian's package; CI installs it with
 * scripts/ci/ensure-chromium.sh) against a real cluster running a checkpointed job.
 */
const CHROMIUM = process.env.WEIR_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`dashboard test: ${CHROMIUM} is missing; run scripts/ci/ensure-chromium.sh`);

// In CI a missing browser is a failure, not a skip.
describe.skipIf(!haveChromium && !process.env.CI)('web dashboard', () => {
  let cluster: TestCluster;
  let browser: Browser | undefined;

  beforeAll(async () => {
    cluster = new TestCluster({}, 'weir-dashboard-');
    await cluster.start(2);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await cluster?.stop();
  });

  it('shows the cluster, then a running job whose checkpoint table grows', async () => {
    const jobId = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [path.join(cluster.dir, 'out'), '150000', '10', '5000', '200'], [
      '-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.delay=200ms', '-D', 'restart-strategy.fixed-delay.attempts=3',
    ]);
    const page = await browser!.newPage({ viewport: { width: 1360, height: 1000 } });
    page.setDefaultTimeout(15_000);
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
    const base = `http://127.0.0.1:${cluster.restPort}/`;

    // Cluster overview.
    await page.goto(base);
    await page.waitForSelector('#jobs tbody tr');
    expect(await page.textContent('#card-taskmanagers .value')).toBe('2');
    expect(await page.locator('#taskmanagers tbody tr').count()).toBe(2);
    expect(await page.textContent('#jobs')).toContain(jobId);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });

    // The job page, reached by clicking the job.
    await page.click(`#jobs a[href="#/jobs/${jobId}"]`);
    await page.waitForSelector('#checkpoint-history tbody tr');
    expect(await page.locator('#job-graph .graph-vertex').count()).toBe(2);
    expect(await page.locator('#job-graph .graph-edge').count()).toBe(1);
    expect(await page.textContent('#job-graph')).toContain('HASH');
    expect(await page.locator('#tasks tbody tr').count()).toBe(2);
    await waitFor('every task to show RUNNING', async () => (await page.locator('#tasks .badge.RUNNING').count()) === 2, 15_000, 200);

    // It refreshes itself: the checkpoint table grows without a reload.
    const first = await page.locator('#checkpoint-history tbody tr').count();
    const grown = await waitFor('the checkpoint table to grow', async () => {
      const n = await page.locator('#checkpoint-history tbody tr').count();
      return n > first ? n : undefined;
    }, 15_000, 250);
    expect(grown).toBeGreaterThan(first);
    expect(await page.locator('#checkpoint-chart polyline').count()).toBe(1);
    const completed = Number(await page.textContent('#cp-completed .value'));
    expect(completed).toBeGreaterThanOrEqual(2);

    // Clicking a completed checkpoint shows its per-task acknowledgements.
    await page.locator('#checkpoint-history tbody tr:has(.badge.COMPLETED)').first().click();
    await page.waitForSelector('#checkpoint-details tbody tr');
    expect(await page.locator('#checkpoint-details tbody tr').count()).toBe(2);

    // kill -9 the TaskManager running the job: the page shows the restart, the restore and the loss.
    const holder = (await cluster.status(jobId)).vertices[0].subtasks[0].taskmanager_id;
    const pid = (await cluster.listTaskManagers()).find((t) => t.id === holder)!.pid;
    cluster.kill(pid);
    await page.waitForSelector(`#exceptions tbody tr:has-text("${holder}")`, { timeout: 20_000 });
    await waitFor('the page to show the restart and the restore', async () =>
      (await page.textContent('#restarts')) === '1' && Number(await page.textContent('#cp-restored .value')) >= 1 && (await page.locator('#tasks .badge.RUNNING').count()) === 2, 20_000, 200);
    expect(await page.textContent('#tasks')).not.toContain(holder);

    const screenshot = path.join(ARTIFACTS, 'dashboard.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);

    // An unknown job says so.
    await page.goto(`${base}#/jobs/0123456789abcdef0123456789abcdef`);
    await page.waitForSelector('.error-box');
    expect(await page.textContent('.error-box')).toContain('no job with id');
    expect(errors.filter((e) => !/404/.test(e))).toEqual([]);
    await page.close();
    await cluster.cli(['cancel', jobId]);
  }, 90_000);
});
