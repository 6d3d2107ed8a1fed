// A standalone Flink cluster for the Flink peer benchmarks (run.mjs, latency.mjs): one
// JobManager JVM and N TaskManager JVMs (1 slot each) on 127.0.0.1, started from the jars that
// Maven copies into target/lib the way bin/jobmanager.sh and bin/taskmanager.sh would, and
// driven over the REST API. The JVMs are tracked by scripts/bench/lib/common.mjs, so they are
// stopped by pid: by stop(), and by its exit handlers on exit, error and Ctrl-C.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { children, freePort, sleep, spawnTracked, stopProc } from '../../../scripts/bench/lib/common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LIB = path.join(HERE, 'target', 'lib');
const JOB_JAR = path.join(HERE, 'target', 'weir-flink-peer-0.1.0-jobs.jar');
const CP = `${LIB}/*`;

/** mvn package in this folder, offline first (online downloads Flink into ~/.m2 once). */
export function buildFlinkJobs(log) {
  log('building the Flink jobs with Maven (offline first)');
  let r = spawnSync('mvn', ['-q', '-o', 'package'], { cwd: HERE, encoding: 'utf8' });
  if (r.status !== 0) {
    log('offline build failed, building online (downloads from Maven Central into ~/.m2)');
    r = spawnSync('mvn', ['-q', 'package'], { cwd: HERE, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mvn package failed:\n${r.stdout}\n${r.stderr}`);
  }
  if (!fs.existsSync(JOB_JAR) || !fs.existsSync(LIB)) throw new Error('the Maven build did not produce the job jar / target/lib');
}

export function javaVersion() {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return /version "([^"]+)"/.exec(r.stderr ?? '')?.[1] ?? null;
}

// Module flags from the Flink 1.20 distribution's default env.java.opts.all (Java 17).
const JAVA_OPTS = `-XX:+IgnoreUnrecognizedVMOptions -XX:+UseG1GC
--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
--add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
--add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED`.split(/\s+/);

const log4j = (level) => `rootLogger.level = ${level}
rootLogger.appenderRef.file.ref = MainAppender
appender.main.name = MainAppender
appender.main.type = File
appender.main.append = true
appender.main.fileName = \${sys:log.file}
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
logger.pekko.name = org.apache.pekko
logger.pekko.level = ${level}
logger.netty.name = org.apache.flink.shaded.netty4.io.netty.channel.DefaultChannelPipeline
logger.netty.level = ERROR
`;

export class FlinkCluster {
  /**
   * Lives in root/name. parallelism: of the jobs submitted; jmMb / tmMb: the JobManager's and
   * each TaskManager's process memory; conf: config keys that override the defaults (a
   * benchmark's own settings); logLevel: of the JVMs' log files.
   */
  constructor(root, name, numTms, { log = () => {}, parallelism = 2, jmMb = 1024, tmMb = 1536, conf = {}, logLevel = 'INFO' } = {}) {
    Object.assign(this, { name, numTms, log, parallelism, jmMb, tmMb, extraConf: conf, logLevel });
    this.dir = path.join(root, name);
    this.tms = new Map(); // resource id -> pid
    this.jmPid = null;
    this.nextTm = 0;
  }

  get tmPids() { return [...this.tms.values()]; }

  async configure() {
    for (const d of ['conf', 'logs', 'io', 'web', 'checkpoints', 'out']) fs.mkdirSync(path.join(this.dir, d), { recursive: true });
    this.rpcPort = await freePort();
    this.restPort = await freePort();
    this.base = `http://127.0.0.1:${this.restPort}`;
    const conf = {
      'jobmanager.rpc.address': '127.0.0.1',
      'jobmanager.rpc.port': this.rpcPort,
      'jobmanager.bind-host': '127.0.0.1',
      'jobmanager.memory.process.size': `${this.jmMb}m`,
      'taskmanager.bind-host': '127.0.0.1',
      'taskmanager.host': '127.0.0.1',
      'taskmanager.memory.process.size': `${this.tmMb}m`,
      'taskmanager.memory.managed.size': '0m', // heap state backend uses no managed memory
      'taskmanager.numberOfTaskSlots': 1,
      'parallelism.default': this.parallelism,
      'rest.address': '127.0.0.1',
      'rest.bind-address': '127.0.0.1',
      'rest.port': this.restPort,
      'heartbeat.interval': 1000,
      'heartbeat.timeout': 5000,
      'state.backend.type': 'hashmap',
      'state.checkpoints.dir': `file://${path.join(this.dir, 'checkpoints')}`,
      'io.tmp.dirs': path.join(this.dir, 'io'),
      'web.upload.dir': path.join(this.dir, 'web'),
      'web.tmpdir': path.join(this.dir, 'web'),
      'cluster.evenly-spread-out-slots': true,
      ...this.extraConf,
    };
    fs.writeFileSync(path.join(this.dir, 'conf', 'config.yaml'),
      Object.entries(conf).map(([k, v]) => `${k}: ${typeof v === 'string' && /[:#]/.test(v) ? JSON.stringify(v) : v}`).join('\n') + '\n');
    fs.writeFileSync(path.join(this.dir, 'conf', 'log4j.properties'), log4j(this.logLevel));
    this.jmParams = this.resourceParams('GET_JM_RESOURCE_PARAMS');
    this.tmParams = this.resourceParams('GET_TM_RESOURCE_PARAMS');
  }

  /** What bin/jobmanager.sh and bin/taskmanager.sh do: JVM memory flags and dynamic properties from the config. */
  resourceParams(cmd) {
    const r = spawnSync('java', ['-cp', CP, `-Dlog4j.configurationFile=file:${path.join(this.dir, 'conf', 'log4j.properties')}`,
      `-Dlog.file=${path.join(this.dir, 'logs', 'bash-java-utils.log')}`,
      'org.apache.flink.runtime.util.bash.BashJavaUtils', cmd, '--configDir', path.join(this.dir, 'conf')], { encoding: 'utf8' });
    const lines = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('BASH_JAVA_UTILS_EXEC_RESULT:'))
      .map((l) => l.slice('BASH_JAVA_UTILS_EXEC_RESULT:'.length).trim());
    if (lines.length < 2) throw new Error(`BashJavaUtils ${cmd} failed: ${r.stdout}\n${r.stderr}`);
    return { jvm: lines[0].split(/\s+/).filter(Boolean), dyn: lines[1].split(/\s+/).filter(Boolean) };
  }

  spawnJvm(role, mainClass, params, extraArgs) {
    return spawnTracked(`${this.name}/${role}`, 'java', [...params.jvm, ...JAVA_OPTS, `-Dlog.file=${path.join(this.dir, 'logs', `${role}.log`)}`,
      `-Dlog4j.configurationFile=file:${path.join(this.dir, 'conf', 'log4j.properties')}`,
      '-classpath', CP, mainClass, '--configDir', path.join(this.dir, 'conf'), ...params.dyn, ...extraArgs],
    { logFile: path.join(this.dir, 'logs', `${role}.out`), cluster: true });
  }

  startJm() {
    this.jmPid = this.spawnJvm('jobmanager', 'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint', this.jmParams, []);
  }

  /** Starts one more TaskManager (also a replacement for a killed one); returns its resource id. */
  startTm() {
    const id = `tm-${this.nextTm++}`;
    this.tms.set(id, this.spawnJvm(id, 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner', this.tmParams,
      ['-D', `taskmanager.resource-id=${id}`]));
    return id;
  }

  /** Spawns JM + TMs at once; returns ms from spawn to /overview showing all TMs. */
  async start() {
    await this.configure();
    this.log(`${this.name}: starting 1 JobManager + ${this.numTms} TaskManagers (REST ${this.restPort})`);
    const t0 = performance.now();
    this.startJm();
    for (let i = 0; i < this.numTms; i++) this.startTm();
    await this.waitTms(this.numTms, 120000);
    const ms = performance.now() - t0;
    this.log(`${this.name}: ready in ${ms.toFixed(0)} ms`);
    return ms;
  }

  checkAlive() {
    const jm = children.get(this.jmPid);
    if (!jm || jm.exitCode !== null) throw new Error(`${this.name}: the Flink JobManager died; see ${this.dir}/logs (run with --keep-tmp)`);
  }

  async waitTms(n, timeoutMs) {
    const t0 = Date.now();
    for (;;) {
      this.checkAlive();
      try {
        const o = await this.get('/overview', 1000);
        if (o.taskmanagers >= n) return o;
      } catch { /* REST not up yet */ }
      if (Date.now() - t0 > timeoutMs) throw new Error(`${this.name}: ${n} TaskManagers not registered after ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  async req(method, p, body, timeoutMs = 10000) {
    const init = { method, signal: AbortSignal.timeout(timeoutMs) };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) { init.body = JSON.stringify(body); init.headers = { 'content-type': 'application/json' }; }
    const r = await fetch(this.base + p, init);
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${p}: HTTP ${r.status} ${text.slice(0, 2000)}`);
    return text ? JSON.parse(text) : {};
  }

  get(p, timeoutMs) { return this.req('GET', p, undefined, timeoutMs); }

  async submit(entryClass, args) {
    if (!this.jarId) {
      const fd = new FormData();
      fd.append('jarfile', new Blob([fs.readFileSync(JOB_JAR)], { type: 'application/x-java-archive' }), 'weir-flink-peer-jobs.jar');
      this.jarId = path.basename((await this.req('POST', '/jars/upload', fd, 60000)).filename);
    }
    const r = await this.req('POST', `/jars/${this.jarId}/run`, {
      entryClass: `dev.weir.bench.${entryClass}`, programArgsList: args, parallelism: this.parallelism,
    }, 60000);
    this.log(`${this.name}: submitted ${entryClass} ${args.join(' ')} -> job ${r.jobid}`);
    return r.jobid;
  }

  async waitRunning(jobId, timeoutMs = 60000) {
    const t0 = Date.now();
    for (;;) {
      this.checkAlive();
      const j = await this.get(`/jobs/${jobId}`);
      if (j.state === 'RUNNING' && j.vertices.every((v) => v.status === 'RUNNING')) return j;
      if (['FAILED', 'CANCELED', 'FINISHED'].includes(j.state)) throw new Error(`Flink job ${jobId} is ${j.state}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`Flink job ${jobId} not RUNNING after ${timeoutMs} ms (${j.state})`);
      await sleep(50);
    }
  }

  async checkpointCounts(jobId) {
    return (await this.get(`/jobs/${jobId}/checkpoints`)).counts ?? {};
  }

  /** Sum over subtasks of a task-level metric of one vertex (via the REST metric fetcher). */
  async vertexMetric(jobId, vertexId, metric) {
    const r = await this.get(`/jobs/${jobId}/vertices/${vertexId}/subtasks/metrics?get=${metric}&agg=sum`);
    const m = r.find((x) => x.id === metric);
    return m ? Number(m.sum) : null;
  }

  async cancel(jobId) {
    try { await this.req('PATCH', `/jobs/${jobId}?mode=cancel`); } catch (e) { this.log(`cancel: ${e.message}`); return; }
    const t0 = Date.now();
    while (Date.now() - t0 < 30000) {
      if (['CANCELED', 'FAILED', 'FINISHED'].includes((await this.get(`/jobs/${jobId}`)).state)) return;
      await sleep(100);
    }
    this.log(`Flink job ${jobId} did not reach CANCELED within 30 s`);
  }

  async stop() {
    this.log(`${this.name}: stopping`);
    await Promise.all([...this.tms.values(), this.jmPid].filter((p) => p != null).map((p) => stopProc(p)));
    this.tms.clear();
  }
}
