// A cluster with security on, as `weir security init` makes it: mutual TLS on every gRPC
// port, HTTPS and a bearer token for clients. Peers without the cluster's certificate are
// refused at the handshake, clients without the token get UNAUTHENTICATED / 401 and one
// line, and a job still runs exactly-once across a kill -9 of a TaskManager.
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedLines, diffLines, EXAMPLES, expectedKeyedSum, freePort, TestCluster, waitFor, weir } from '../harness';
import { grpc, insecure, rawConsume, rawSession, rawUnary, tlsCredentials } from './raw-peer';

const N = 150_000;
const KEYS = 50;

function httpsGet(port: number, pathname: string, headers: Record<string, string>, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: pathname, headers, ca, servername: 'localhost', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('a secured cluster (internal mTLS, REST TLS, token)', () => {
  let cluster: TestCluster;
  let sec: string;
  let other: string;
  const read = (dir: string, f: string) => readFileSync(path.join(dir, f), 'utf8');
  const dataPorts: number[] = [];

  beforeAll(async () => {
    const keys = mkdtempSync(path.join(os.tmpdir(), 'weir-tls-keys-'));
    sec = path.join(keys, 'security');
    other = path.join(keys, 'other-ca');
    for (const dir of [sec, other]) expect((await weir(['security', 'init', dir])).code).toBe(0);
    // The processes get every key of cluster.yaml (as -D flags); the CLI reads client.yaml.
    const config: Record<string, string> = {};
    for (const line of read(sec, 'cluster.yaml').split('\n').filter(Boolean)) {
      const i = line.indexOf(':');
      const value = line.slice(i + 1).trim();
      config[line.slice(0, i)] = /\.pem$|^token$/.test(value) ? path.join(sec, value) : value; // relative to the file
    }
    cluster = new TestCluster(config, 'weir-tls-');
    cluster.clientArgs = ['--config', path.join(sec, 'client.yaml')];
    await cluster.startJobManager();
    for (let i = 0; i < 3; i++) {
      dataPorts.push(await freePort());
      await cluster.startTaskManager(1, { 'taskmanager.data.port': dataPorts[i] });
    }
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('refuses peers without a certificate of the cluster CA at the handshake, on the JobManager and data ports', async () => {
    const noCert = tlsCredentials(read(sec, 'ca.pem'));
    const wrongCa = tlsCredentials(read(sec, 'ca.pem'), read(other, 'internal.pem'), read(other, 'internal-key.pem'));
    for (const creds of [insecure(), noCert, wrongCa]) {
      const list = await rawUnary(cluster.address, creds, 'ListJobs', {});
      expect(list.code).toBe(grpc.status.UNAVAILABLE);
      // A fake TaskManager offering slots never registers, so no job can be scheduled onto it.
      const session = await rawSession(cluster.address, creds, [{ register: { taskmanager_id: 'fake', host: '127.0.0.1', slots: [{ index: 0, data_address: '127.0.0.1:1' }], metrics_port: 1, pid: 1 } }], 1500);
      expect(session.code).toBe(grpc.status.UNAVAILABLE);
      expect(session.received).toEqual([]);
      const consume = await rawConsume(`127.0.0.1:${dataPorts[0]}`, creds, { job_id: 'x', attempt: 0, producer_vertex_id: 'v0', producer_subtask: 0, consumer_vertex_id: 'v1', consumer_subtask: 0, initial_credit: 1, token: '' }, 1500);
      expect(consume.code).toBe(grpc.status.UNAVAILABLE);
    }
    expect((await cluster.listTaskManagers()).map((t) => t.id)).not.toContain('fake');
    expect(await cluster.listTaskManagers()).toHaveLength(3);
  });

  it('a client certificate of the right CA is not a TaskManager: its session is refused', async () => {
    const client = tlsCredentials(read(sec, 'ca.pem'), read(sec, 'client.pem'), read(sec, 'client-key.pem'));
    const session = await rawSession(cluster.address, client, [{ register: { taskmanager_id: 'fake-client', host: '127.0.0.1', slots: [{ index: 0, data_address: '127.0.0.1:1' }], metrics_port: 1, pid: 1 } }], 1500);
    expect(session.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(session.received).toEqual([]);
    const consume = await rawConsume(`127.0.0.1:${dataPorts[0]}`, client, { job_id: 'x', attempt: 0, producer_vertex_id: 'v0', producer_subtask: 0, consumer_vertex_id: 'v1', consumer_subtask: 0, initial_credit: 1, token: '' }, 1500);
    expect(consume.code).toBe(grpc.status.UNAUTHENTICATED);
    // ... and without the token it may not even list jobs.
    expect((await rawUnary(cluster.address, client, 'ListJobs', {})).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('the CLI without the token, or with a wrong one, gets UNAUTHENTICATED in one line', async () => {
    const tlsOnly = ['-D', 'security.ssl.rest.enabled=true', '-D', `security.ssl.rest.ca=${path.join(sec, 'ca.pem')}`, '-D', `security.ssl.rest.cert=${path.join(sec, 'client.pem')}`, '-D', `security.ssl.rest.key=${path.join(sec, 'client-key.pem')}`];
    for (const [args, env] of [[tlsOnly, {}], [tlsOnly, { WEIR_AUTH_TOKEN: 'wrong' }], [[...tlsOnly, '-D', 'security.auth.token=wrong'], {}]] as const) {
      for (const cmd of [['list'], ['run', path.join(EXAMPLES, 'word-count.ts'), '--detached'], ['cancel', '0'.repeat(32)]]) {
        const r = await weir([...cmd, '--jobmanager', cluster.address, ...args], { env: { ...env } });
        expect(r.code).toBe(1);
        const lines = r.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^weir: the JobManager at .* refused the call \(UNAUTHENTICATED\)/);
      }
    }
    // The token from the environment is enough.
    const env = await weir(['list', '--json', '--jobmanager', cluster.address, ...tlsOnly], { env: { WEIR_AUTH_TOKEN: read(sec, 'token').trim() } });
    expect(env.code).toBe(0);
  });

  it('REST answers only over HTTPS and only with the token (401 otherwise), with no CORS header', async () => {
    const ca = read(sec, 'ca.pem');
    const none = await httpsGet(cluster.restPort, '/jobs', {}, ca);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body).errors).toHaveLength(1);
    expect((await httpsGet(cluster.restPort, '/jobs', { authorization: 'Bearer wrong' }, ca)).status).toBe(401);
    const ok = await httpsGet(cluster.restPort, '/taskmanagers', { authorization: `Bearer ${read(sec, 'token').trim()}` }, ca);
    expect(ok.status).toBe(200);
    const config = await httpsGet(cluster.restPort, '/config', { authorization: `Bearer ${read(sec, 'token').trim()}` }, ca);
    expect(config.body).not.toContain(read(sec, 'token').trim());
    const plain = await fetch(`http://127.0.0.1:${cluster.restPort}/jobs`).then((r) => r.status, () => 'refused');
    expect(plain).not.toBe(200);
  });

  it('runs a job end to end across a kill -9 of a TaskManager with exact output', async () => {
    const out = path.join(cluster.dir, 'out');
    const id = await cluster.submit(path.join(EXAMPLES, 'keyed-sum.ts'), [out, String(N), String(KEYS), '15000', '200'], [
      '-p', '2', '-D', 'restart-strategy.type=fixed-delay', '-D', 'restart-strategy.fixed-delay.attempts=10', '-D', 'restart-strategy.fixed-delay.delay=200ms',
    ]);
    await waitFor('two completed checkpoints', async () => (await cluster.checkpoints(id)).completed >= 2, 30_000);
    const victim = (await cluster.status(id)).vertices[1].subtasks[0].taskmanager_id;
    cluster.kill(Number(victim.split('-').at(-2)));
    const done = await cluster.waitForState(id, ['FINISHED', 'FAILED'], 90_000);
    expect(done.summary.state).toBe('FINISHED');
    expect(done.summary.restarts).toBe(1);
    expect(done.last_restore_checkpoint_id).toBeGreaterThan(0);
    expect(diffLines(committedLines(out), expectedKeyedSum(N, KEYS))).toEqual({ missing: [], extra: [] });
  });
});
