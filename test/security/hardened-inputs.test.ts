// Hardened inputs and bounded memory: malformed request lines and escapes get 400 and the
// JobManager survives all of them; CORS only when configured; the REST token; a submission
// above jobmanager.submission.max-size is refused with one line; finished jobs leave memory
// after jobstore.max-capacity / jobstore.expiration-time while their records stay on disk.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLES, TestCluster, waitFor, type CliResult } from '../harness';
import { grpc, insecure, rawHttp, rawUnary } from './raw-peer';

/** A fixed list of what broke or could break URL handling, then seeded random paths. */
function requestTargets(seed: number, count: number): string[] {
  const fixed = [
    '//[', '/jobs/%E0%A4%A', '/jobs/%', '/jobs/%zz', '/jobs/%00', '/jobs/%E0%A4%A/checkpoints', '/jobs/x/checkpoints/details/%ff',
    '/../../etc/passwd', '/jobs/..%2f..%2fetc%2fpasswd', '//jobs', '///', '/%2e%2e/', '/jobs?limit=%zz', '/jobs/a/checkpoints?limit=-1',
    '*', 'http://evil.example/jobs', '/jobs/' + 'a'.repeat(5000), '/\\\\server\\share', '/jobs/%C0%AE%C0%AE', '/index.html%00.js', '/#frag', '/?',
  ];
  const alphabet = ['/', '%', '[', ']', '..', '.', '\\', '?', '#', '&', '=', '%E0', '%A4', '%A', '%2F', '%00', 'jobs', 'checkpoints', 'details', 'x', '9', '@', ':', ';', '~', '\u00e9', '\u0000'];
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const generated = Array.from({ length: count }, () => `/${Array.from({ length: 1 + Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')}`);
  return [...fixed, ...generated];
}

const request = (target: string, headers = '') => `GET ${target} HTTP/1.1\r\nHost: localhost\r\n${headers}Connection: close\r\n\r\n`;
const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);

describe('hardened inputs and bounded memory', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('survives a bounded fuzz of malformed request lines and paths: 400/404, never 500, no CORS header', async () => {
    cluster = new TestCluster({}, 'weir-fuzz-');
    await cluster.startJobManager();
    const seen = new Map<number, number>();
    const targets = requestTargets(12, 300);
    const started = Date.now();
    for (const target of targets) {
      const raw = await rawHttp(cluster.restPort, request(target), 2000);
      const status = statusOf(raw);
      seen.set(status, (seen.get(status) ?? 0) + 1);
      expect([200, 400, 404], `GET ${JSON.stringify(target)} answered ${raw.slice(0, 80)}`).toContain(status);
      expect(raw.toLowerCase()).not.toContain('access-control-allow-origin');
      expect(raw).not.toMatch(/at .*\.(ts|js|cjs):\d+/); // no stack trace
    }
    expect(Date.now() - started).toBeLessThan(60_000);
    // The two rows of issue 12 by name.
    expect(statusOf(await rawHttp(cluster.restPort, request('//[')))).toBe(400);
    const escape = await rawHttp(cluster.restPort, request('/jobs/%E0%A4%A'));
    expect(statusOf(escape)).toBe(400);
    expect(escape).toContain('{"errors":["malformed escape');
    // Bytes that are not HTTP at all.
    for (const bytes of [Buffer.from([0, 1, 2, 255, 13, 10, 13, 10]), 'GET / HTTP/9.9\r\n\r\n', 'GARBAGE\r\n\r\n', `GET /${'x'.repeat(20000)} HTTP/1.1\r\n\r\n`]) {
      const status = statusOf(await rawHttp(cluster.restPort, bytes, 2000));
      expect([0, 400, 404, 414, 431, 505]).toContain(status);
    }
    expect(cluster.jobmanager?.exitCode).toBeNull();
    expect(statusOf(await rawHttp(cluster.restPort, request('/overview')))).toBe(200);
    expect((await cluster.cli(['list'])).code).toBe(0);
    expect(seen.get(400)).toBeGreaterThan(10);
  });

  it('asks REST for the token, sends CORS only for the configured origin, and refuses an oversized submission with one line', async () => {
    cluster = new TestCluster({ 'security.auth.token': 's3cret-token', 'web.access-control-allow-origin': 'https://ui.example', 'jobmanager.submission.max-size': 1024 * 1024 }, 'weir-limits-');
    cluster.clientArgs = ['-D', 'security.auth.token=s3cret-token'];
    await cluster.startJobManager();
    const denied = await rawHttp(cluster.restPort, request('/jobs'));
    expect(statusOf(denied)).toBe(401);
    expect(denied.toLowerCase()).toContain('www-authenticate: bearer');
    expect(statusOf(await rawHttp(cluster.restPort, request('/jobs', 'Authorization: Bearer nope\r\n')))).toBe(401);
    const ok = await rawHttp(cluster.restPort, request('/jobs', 'Authorization: Bearer s3cret-token\r\n'));
    expect(statusOf(ok)).toBe(200);
    expect(ok.toLowerCase()).toContain('access-control-allow-origin: https://ui.example');
    const preflight = await rawHttp(cluster.restPort, 'OPTIONS /jobs HTTP/1.1\r\nHost: localhost\r\nOrigin: https://ui.example\r\nConnection: close\r\n\r\n');
    expect(statusOf(preflight)).toBe(204);
    expect(preflight.toLowerCase()).toContain('access-control-allow-headers: authorization');
    // The dashboard's page holds no data and loads without the token.
    expect(statusOf(await rawHttp(cluster.restPort, request('/')))).toBe(200);

    // A raw 3 MiB submission: refused before it is taken, the JobManager goes on.
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer s3cret-token');
    const graph = { name: 'big', vertices: [{ id: 'v0', name: 'src', parallelism: 1, max_parallelism: 128, operators: [], is_source: true }], edges: [], checkpoint_interval_ms: 0, checkpointing_mode: '', bounded: true, config: {} };
    const big = await rawUnary(cluster.address, insecure(), 'SubmitJob', { graph, bundle: Buffer.alloc(3 * 1024 * 1024, 120), args: [], config: {} }, metadata, 20_000);
    expect(big.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    // The same through the CLI: a job whose bundle is 2 MB.
    const jobFile = path.join(cluster.dir, 'big-job.ts');
    writeFileSync(jobFile, `import wordCount from ${JSON.stringify(path.join(EXAMPLES, 'word-count.ts'))};\nconst PAD = ${JSON.stringify('p'.repeat(2 * 1024 * 1024))};\nexport default function job(env: any, args: string[]) { if (PAD.length === 0) throw new Error(); return wordCount(env, args); }\n`);
    const r: CliResult = await cluster.cli(['run', jobFile, '--detached'], 60_000);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^weir: the JobManager at .* refused the request as too large \(jobmanager\.submission\.max-size\)/);
    expect(cluster.jobmanager?.exitCode).toBeNull();
    expect((await cluster.cli(['list', '--json'])).stdout.trim()).toBe('[]');
  });

  it('prunes finished jobs from memory by count and by age; their records stay in the store', async () => {
    cluster = new TestCluster({ 'jobstore.max-capacity': 1, 'jobstore.expiration-time': '8 s' }, 'weir-prune-');
    await cluster.start(1);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await cluster.cli(['run', path.join(EXAMPLES, 'word-count.ts')], 60_000);
      expect(r.code).toBe(0);
      ids.push(/JobID ([0-9a-f]{32})/.exec(r.stdout)?.[1] as string);
    }
    const listed = () => cluster!.cli(['list', '--json']).then((r) => (JSON.parse(r.stdout) as { job_id: string }[]).map((j) => j.job_id));
    // Pruning runs every second: within a few the older one is gone.
    await waitFor('the older job to be pruned by count', async () => JSON.stringify(await listed()) === JSON.stringify([ids[1]]), 5000, 200);
    const gone = await cluster.cli(['status', ids[0]]);
    expect(gone.code).toBe(1);
    expect(gone.stderr.trim().split('\n')).toHaveLength(1);
    expect(gone.stderr).toContain('pruned (jobstore.max-capacity, jobstore.expiration-time)');
    await waitFor('the last job to expire from memory', async () => (await listed()).length === 0, 30_000, 500);
    for (const id of ids) expect(existsSync(path.join(cluster.dir, 'jobmanager', id, 'job.json'))).toBe(true);
  });
});
