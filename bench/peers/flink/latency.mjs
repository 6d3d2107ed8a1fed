// The Flink side of scripts/bench/latency.mjs: builds this Maven project and runs a
// standalone Flink cluster (JobManager + TaskManager JVMs on 127.0.0.1, 1 slot each) the way
// run.mjs does, with the processes tracked by scripts/bench/lib/common.mjs (stopped by pid
// on exit, error and Ctrl-C). run.mjs keeps its own copy of this cluster code because it runs
// its benchmark on import; when it is split into a module, both should share one.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { children, freePort, sleep, spawnTracked, stopProc } from '../../../scripts/bench/lib/common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LIB = path.join(HERE, 'target', 'lib');
const JOB_JAR = path.join(HERE, 'target', 'weir-flink-peer-0.1.0-jobs.jar');
const CP = `${LIB}/*`;

/** mvn package, offline first (as run.mjs). */
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

// Module flags from the Flink 1.20 distribution's default env.java.opts.all (Java 17), as run.mjs.
const JAVA_OPTS = `-XX:+IgnoreUnrecognizedVMOptions -XX:+UseG1GC
--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
--add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
--add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED`.split(/\s+/);

const LOG4J = `rootLogger.level = WARN
rootLogger.appenderRef.file.ref = MainAppender
appender.main.name = MainAppender
appender.main.type = File
appender.main.append = true
appender.main.fileName = \${sys:log.file}
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
`;

export class FlinkCluster {
  constructor(root, name, numTms, { log = () => {}, parallelism = 2, conf = {} } = {}) {
    Object.assign(this, { name, numTms, log, parallelism, extraConf: conf });
    this.dir = path.join(root, name);
    this.tmPids = [];
  }

  async configure() {
    for (const d of ['conf', 'logs', 'io', 'web', 'checkpoints']) fs.mkdirSync(path.join(this.dir, d), { recursive: true });
    this.restPort = await freePort();
    this.base = `http://127.0.0.1:${this.restPort}`;
    const conf = {
      'jobmanager.rpc.address': '127.0.0.1', 'jobmanager.rpc.port': await freePort(), 'jobmanager.bind-host': '127.0.0.1',
      'jobmanager.memory.process.size': '1024m',
      'taskmanager.bind-host': '127.0.0.1', 'taskmanager.host': '127.0.0.1',
      'taskmanager.memory.process.size': '1536m', 'taskmanager.memory.managed.size': '0m',
      'taskmanager.numberOfTaskSlots': 1, 'parallelism.default': this.parallelism,
      'rest.address': '127.0.0.1', 'rest.bind-address': '127.0.0.1', 'rest.port': this.restPort,
      'heartbeat.interval': 1000, 'heartbeat.timeout': 5000,
      'state.backend.type': 'hashmap', 'state.checkpoints.dir': `file://${path.join(this.dir, 'checkpoints')}`,
      'io.tmp.dirs': path.join(this.dir, 'io'), 'web.upload.dir': path.join(this.dir, 'web'), 'web.tmpdir': path.join(this.dir, 'web'),
      'cluster.evenly-spread-out-slots': true,
      ...this.extraConf,
    };
    fs.writeFileSync(path.join(this.dir, 'conf', 'config.yaml'),
      Object.entries(conf).map(([k, v]) => `${k}: ${typeof v === 'string' && /[:#]/.test(v) ? JSON.stringify(v) : v}`).join('\n') + '\n');
    fs.writeFileSync(path.join(this.dir, 'conf', 'log4j.properties'), LOG4J);
    this.jmParams = this.resourceParams('GET_JM_RESOURCE_PARAMS');
    this.tmParams = this.resourceParams('GET_TM_RESOURCE_PARAMS');
  }

  /** What bin/jobmanager.sh and bin/taskmanager.sh do: JVM memory flags from the config. */
  resourceParams(cmd) {
    const r = spawnSync('java', ['-cp', CP, `-Dlog4j.configurationFile=file:${path.join(this.dir, 'conf', 'log4j.properties')}`,
      `-Dlog.file=${path.join(this.dir, 'logs', 'bash-java-utils.log')}`,
      'org.apache.flink.runtime.util.bash.BashJavaUtils', cmd, '--configDir', path.join(this.dir, 'conf')], { encoding: 'utf8' });
    const lines = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('BASH_JAVA_UTILS_EXEC_RESULT:'))
      .map((l) => l.slice('BASH_JAVA_UTILS_EXEC_RESULT:'.length).trim());
    if (lines.length < 2) throw new Error(`BashJavaUtils ${cmd} failed: ${r.stdout}\n${r.stderr}`);
    return { jvm: lines[0].split(/\s+/).filter(Boolean), dyn: lines[1].split(/\s+/).filter(Boolean) };
  }

  spawnJvm(role, mainClass, params, extra) {
    return spawnTracked(`${this.name}/${role}`, 'java', [...params.jvm, ...JAVA_OPTS, `-Dlog.file=${path.join(this.dir, 'logs', `${role}.log`)}`,
      `-Dlog4j.configurationFile=file:${path.join(this.dir, 'conf', 'log4j.properties')}`,
      '-classpath', CP, mainClass, '--configDir', path.join(this.dir, 'conf'), ...params.dyn, ...extra],
    { logFile: path.join(this.dir, 'logs', `${role}.out`), cluster: true });
  }

  async start() {
    await this.configure();
    this.log(`${this.name}: starting Flink JobManager + ${this.numTms} TaskManagers (REST ${this.restPort})`);
    const t0 = performance.now();
    this.jmPid = this.spawnJvm('jobmanager', 'org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint', this.jmParams, []);
    for (let i = 0; i < this.numTms; i++) {
      this.tmPids.push(this.spawnJvm(`tm-${i}`, 'org.apache.flink.runtime.taskexecutor.TaskManagerRunner', this.tmParams, ['-D', `taskmanager.resource-id=tm-${i}`]));
    }
    for (;;) {
      if (children.get(this.jmPid)?.exitCode !== null) throw new Error(`${this.name}: the Flink JobManager exited; logs in ${this.dir}/logs (--keep-tmp)`);
      try { if ((await this.get('/overview', 1000)).taskmanagers >= this.numTms) break; } catch { /* REST not up yet */ }
      if (performance.now() - t0 > 120000) throw new Error(`${this.name}: ${this.numTms} TaskManagers not registered within 120 s`);
      await sleep(50);
    }
    this.log(`${this.name}: ready in ${Math.round(performance.now() - t0)} ms`);
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
    const r = await this.req('POST', `/jars/${this.jarId}/run`, { entryClass: `dev.weir.bench.${entryClass}`, programArgsList: args, parallelism: this.parallelism }, 60000);
    this.log(`${this.name}: submitted ${entryClass} ${args.join(' ')} -> ${r.jobid}`);
    return r.jobid;
  }

  async waitRunning(jobId, timeoutMs = 60000) {
    const t0 = Date.now();
    for (;;) {
      const j = await this.get(`/jobs/${jobId}`);
      if (j.state === 'RUNNING' && j.vertices.every((v) => v.status === 'RUNNING')) return j;
      if (['FAILED', 'CANCELED', 'FINISHED'].includes(j.state)) throw new Error(`Flink job ${jobId} is ${j.state}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`Flink job ${jobId} not RUNNING within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  async checkpointCounts(jobId) {
    return (await this.get(`/jobs/${jobId}/checkpoints`)).counts ?? {};
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
    await Promise.all([...this.tmPids, this.jmPid].filter((p) => p != null).map((p) => stopProc(p)));
    this.tmPids = [];
  }
}
