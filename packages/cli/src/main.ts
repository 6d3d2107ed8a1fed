import path from 'node:path';
import { isMainThread, workerData } from 'node:worker_threads';
import { Command, Option } from 'commander';
import { ConfigError, describeError, loadConfiguration, type Configuration } from '@weir/core';
import { jobmanagerAddress, useClientConfig } from './client';
import { stopWhenParentGoes } from './parent-watch';

// Job bundles carry inline source maps: a user's stack trace names the job's file and line.
// Turned on after Weir's own bundle has loaded, so only modules compiled later (jobs) are mapped.
process.setSourceMapsEnabled(true);

function collectDefine(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new ConfigError(`-D expects key=value, got "${value}"`);
  return { ...previous, [value.slice(0, eq).trim()]: value.slice(eq + 1).trim() };
}

interface CommonOptions {
  config?: string;
  define: Record<string, string>;
  jobmanager?: string;
  json?: boolean;
}

function configOf(opts: CommonOptions, extra: Record<string, unknown> = {}): Configuration {
  const config = loadConfiguration({ file: opts.config, overrides: { ...opts.define, ...extra } });
  useClientConfig(config);
  return config;
}

/** Runs an action; a user error is one line on stderr and exit code 1. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>) {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      if (typeof code === 'number' && code !== 0) process.exitCode = code;
    } catch (err) {
      process.stderr.write(`weir: ${describeError(err)}\n`);
      if (process.env.WEIR_DEBUG) console.error(err);
      process.exit(1);
    }
  };
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'configuration file (YAML)')
    .option('-D, --define <key=value>', 'set a configuration key (repeatable)', collectDefine, {});
}

function withClient(cmd: Command): Command {
  return withCommon(cmd).option('--jobmanager <host:port>', 'JobManager address (default: jobmanager.rpc.address:jobmanager.rpc.port, or $WEIR_JOBMANAGER)').option('--json', 'print JSON for scripts');
}

function positiveInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${name} expects a positive integer, got "${value}"`);
    return n;
  };
}

function nonNegativeInt(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} expects a non-negative integer, got "${value}"`);
    return n;
  };
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('weir').description('Weir: stream processing with exactly-once checkpoints').showHelpAfterError();

  withCommon(program.command('jobmanager').description('start a JobManager')).action(
    action(async (opts: CommonOptions) => {
      const { startJobManager } = await import('@weir/jobmanager');
      const jm = await startJobManager(configOf(opts));
      process.stderr.write(`JobManager listening on port ${jm.rpcPort}; REST API and dashboard on http://localhost:${jm.restPort}/\n`);
      const stop = () => void jm.stop().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      stopWhenParentGoes(stop);
      await new Promise(() => {});
    }),
  );

  withCommon(program.command('taskmanager').description('start a TaskManager'))
    .requiredOption('--jobmanager <host:port>', 'JobManager address')
    .addOption(new Option('--slots <n>', 'task slots (taskmanager.numberOfTaskSlots)').argParser(positiveInt('--slots')))
    .action(
      action(async (opts: CommonOptions & { slots?: number }) => {
        const { startTaskManager } = await import('@weir/taskmanager');
        const config = configOf(opts, opts.slots ? { 'taskmanager.numberOfTaskSlots': opts.slots } : {});
        const tm = await startTaskManager({ jobmanager: opts.jobmanager as string, config, workerScript: __filename });
        process.stderr.write(`TaskManager ${tm.id} with ${tm.slots.length} slot(s) at ${tm.slots.map((s) => s.data_address).join(', ')}\n`);
        const stop = () => void tm.stop().then(() => process.exit(0));
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        stopWhenParentGoes(stop);
        await new Promise(() => {});
      }),
    );

  withCommon(program.command('cluster').description('start a local cluster: a JobManager and N TaskManagers'))
    .addOption(new Option('--taskmanagers <n>', 'number of TaskManagers').default(2).argParser(positiveInt('--taskmanagers')))
    .addOption(new Option('--slots <n>', 'slots per TaskManager').default(1).argParser(positiveInt('--slots')))
    .option('--port <port>', 'JobManager gRPC port', '6123')
    .option('--log-dir <dir>', 'where the processes write their logs', '.weir/logs')
    .action(
      action(async (opts: CommonOptions & { taskmanagers: number; slots: number; port: string; logDir: string }) => {
        configOf(opts); // validate before starting anything
        const { runCluster } = await import('./commands/cluster');
        return runCluster({ taskmanagers: opts.taskmanagers, slots: opts.slots, port: Number(opts.port), configFile: opts.config, define: opts.define, logDir: path.resolve(opts.logDir) });
      }),
    );

  withClient(program.command('run').description('bundle and submit a job; follow it until it ends unless --detached'))
    .argument('<job-file>', 'a .ts or .js module whose default export builds the pipeline')
    .argument('[args...]', 'arguments for the job (after --)')
    .addOption(new Option('-p, --parallelism <n>', 'default parallelism of the job').argParser(positiveInt('--parallelism')))
    .option('-d, --detached', 'submit and return')
    .option('-s, --from-savepoint <path>', 'start from this savepoint or retained checkpoint (execution.savepoint.path)')
    .option('-n, --allow-non-restored-state', 'drop saved state that no operator of the job takes (execution.savepoint.ignore-unclaimed-state)')
    .option('--dry-run', 'with -s: print the compatibility report and exit without starting the job')
    .option('--no-typecheck', 'bundle a TypeScript job without type-checking it against @weir/api first')
    .action(
      action(async (file: string, args: string[], opts: CommonOptions & { parallelism?: number; detached?: boolean; typecheck: boolean; fromSavepoint?: string; allowNonRestoredState?: boolean; dryRun?: boolean }) => {
        const config = configOf(opts);
        const { runJob } = await import('./commands/run');
        return runJob(file, args, {
          parallelism: opts.parallelism, detached: opts.detached, noTypecheck: !opts.typecheck, jobmanager: jobmanagerAddress(opts.jobmanager, config), config, define: opts.define,
          fromSavepoint: opts.fromSavepoint, allowNonRestoredState: opts.allowNonRestoredState, dryRun: opts.dryRun,
        });
      }),
    );

  const timeoutOption = () => new Option('--timeout <ms>', 'longest wait for the snapshot').default(600_000).argParser(positiveInt('--timeout'));
  withClient(program.command('savepoint').description('trigger a savepoint and print its path; or delete one with --dispose'))
    .argument('[job-id]')
    .argument('[target-dir]', 'where the savepoint directory goes (default: state.savepoints.dir)')
    .option('--dispose <path>', 'delete this savepoint')
    .addOption(timeoutOption())
    .action(
      action(async (id: string | undefined, dir: string | undefined, opts: CommonOptions & { dispose?: string; timeout: number }) => {
        const config = configOf(opts);
        const address = jobmanagerAddress(opts.jobmanager, config);
        const m = await import('./commands/savepoint');
        if (opts.dispose) return m.disposeSavepoint(address, opts.dispose, !!opts.json);
        if (!id) throw new ConfigError('weir savepoint needs a job id (or --dispose <path>)');
        return m.triggerSavepoint(address, id, dir ?? config.getOptionalString('state.savepoints.dir'), { json: !!opts.json, timeoutMs: opts.timeout });
      }),
    );
  withClient(program.command('stop').description('stop a job with a savepoint: sources stop at its barrier, sinks commit, the job ends FINISHED').argument('<job-id>'))
    .option('-p, --savepoint-path <dir>', 'where the savepoint directory goes (default: state.savepoints.dir)')
    .option('-d, --drain', 'also end the input: operators flush as at the end of a bounded input')
    .addOption(timeoutOption())
    .action(
      action(async (id: string, opts: CommonOptions & { savepointPath?: string; drain?: boolean; timeout: number }) => {
        const config = configOf(opts);
        const { stopJob } = await import('./commands/savepoint');
        return stopJob(jobmanagerAddress(opts.jobmanager, config), id, {
          savepointPath: opts.savepointPath ?? config.getOptionalString('state.savepoints.dir'), drain: !!opts.drain, json: !!opts.json, timeoutMs: opts.timeout,
        });
      }),
    );
  withClient(program.command('checkpoint').description('trigger a checkpoint now and print its path').argument('<job-id>'))
    .option('--full', 'a full checkpoint (every Weir checkpoint is full)')
    .addOption(timeoutOption())
    .action(
      action(async (id: string, opts: CommonOptions & { full?: boolean; timeout: number }) => {
        const config = configOf(opts);
        const { triggerCheckpoint } = await import('./commands/savepoint');
        return triggerCheckpoint(jobmanagerAddress(opts.jobmanager, config), id, { full: !!opts.full, json: !!opts.json, timeoutMs: opts.timeout });
      }),
    );

  withClient(program.command('list').description("list this JobManager's jobs, newest first"))
    .option('--all', 'also jobs that ended under an earlier JobManager (read back from its store)')
    .action(
      action(async (opts: CommonOptions & { all?: boolean }) => (await import('./commands/views')).listJobs(jobmanagerAddress(opts.jobmanager, configOf(opts)), !!opts.json, !!opts.all)),
    );
  withClient(program.command('status').description("show a job's tasks, restarts and exceptions").argument('<job-id>')).action(
    action(async (id: string, opts: CommonOptions) => (await import('./commands/views')).jobStatus(jobmanagerAddress(opts.jobmanager, configOf(opts)), id, !!opts.json)),
  );
  withClient(program.command('cancel').description('cancel a job').argument('<job-id>')).action(
    action(async (id: string, opts: CommonOptions) => (await import('./commands/views')).cancelJob(jobmanagerAddress(opts.jobmanager, configOf(opts)), id, !!opts.json)),
  );
  withClient(program.command('checkpoints').description("show a job's checkpoints").argument('<job-id>'))
    .option('--details <checkpoint-id>', 'one checkpoint per subtask: start delay, alignment, sync, async, in-flight data; marks the subtask that finished last')
    .action(
      action(async (id: string, opts: CommonOptions & { details?: string }) => {
        const views = await import('./commands/views');
        const address = jobmanagerAddress(opts.jobmanager, configOf(opts));
        if (opts.details !== undefined) return views.checkpointDetails(address, id, opts.details, !!opts.json);
        return views.checkpoints(address, id, !!opts.json);
      }),
    );
  withClient(program.command('taskmanagers').description('list registered TaskManagers')).action(
    action(async (opts: CommonOptions) => (await import('./commands/views')).listTaskManagers(jobmanagerAddress(opts.jobmanager, configOf(opts)), !!opts.json)),
  );

  program
    .command('lines')
    .description('serve the lines of stdin on a TCP port for socketTextStream, like nc -lk (lines wait while no job is connected)')
    .addOption(new Option('--port <port>', 'port to listen on').default(9999).argParser(positiveInt('--port')))
    .option('--host <host>', 'address to listen on (localhost: 127.0.0.1 and ::1)', 'localhost')
    .addOption(new Option('--interval <ms>', 'least time between two lines (the first line to a new connection goes at once)').default(0).argParser(nonNegativeInt('--interval')))
    .action(
      action(async (opts: { port: number; host: string; interval: number }) => {
        const { runLineServer } = await import('./commands/lines');
        const hosts = opts.host === 'localhost' ? ['127.0.0.1', '::1'] : [opts.host];
        return runLineServer({ port: opts.port, hosts, intervalMs: opts.interval, input: process.stdin, log: (l) => process.stderr.write(`weir lines: ${l}\n`) });
      }),
    );

  program
    .command('security')
    .description('cluster security tooling')
    .command('init')
    .description('make a local CA, the cluster and client certificates, a token, and cluster.yaml / client.yaml that use them')
    .argument('<dir>', 'where to write them (keys are mode 0600)')
    .option('--host <name>', 'another name or address the JobManager is reached by (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .addOption(new Option('--days <n>', 'validity of the certificates').default(365).argParser(positiveInt('--days')))
    .option('--force', 'replace what DIR holds')
    .option('--if-missing', 'do nothing when DIR already holds a CA (for container start-up)')
    .action(
      action(async (dir: string, opts: { host: string[]; days: number; force?: boolean; ifMissing?: boolean }) => {
        const { existsSync } = await import('node:fs');
        if (opts.ifMissing && existsSync(path.join(dir, 'ca.pem'))) {
          process.stdout.write(`${path.resolve(dir)} already holds a CA; nothing to do\n`);
          return;
        }
        const { securityInit } = await import('./commands/security-init');
        const files = securityInit({ dir, hosts: opts.host, days: opts.days, force: !!opts.force });
        process.stdout.write(`${files.join('\n')}\n` +
          `Start the cluster with --config ${path.resolve(dir, 'cluster.yaml')}, the CLI with --config ${path.resolve(dir, 'client.yaml')}.\n` +
          `Keep ca-key.pem off the cluster's machines: it is only needed to issue more certificates.\n`);
      }),
    );

  program
    .command('chaos')
    .description('kill TaskManagers (and with --jobmanager-kills the JobManager) at random while a keyed sum runs into the exactly-once file sink; PASS if the output is exact')
    .option('--job <file>', 'job file (args: output records keys rate checkpointMs)', 'packages/examples/src/keyed-sum.ts')
    .addOption(new Option('--taskmanagers <n>', 'TaskManagers (parallelism + spares)').default(3).argParser(positiveInt('--taskmanagers')))
    .addOption(new Option('-p, --parallelism <n>', 'job parallelism').default(2).argParser(positiveInt('--parallelism')))
    .addOption(new Option('--kills <n>', 'TaskManagers to kill').default(10).argParser(positiveInt('--kills')))
    .addOption(new Option('--jobmanager-kills <n>', 'times to kill -9 the JobManager too (restarted on the same store), mixed at random with the TaskManager kills').default(0).argParser(nonNegativeInt('--jobmanager-kills')))
    .addOption(new Option('--interval <ms>', 'mean time between kills').default(3000).argParser(positiveInt('--interval')))
    .addOption(new Option('--records <n>', 'records the job sums').default(300_000).argParser(positiveInt('--records')))
    .addOption(new Option('--keys <n>', 'keys').default(100).argParser(positiveInt('--keys')))
    .addOption(new Option('--rate <n>', 'records per second').default(10_000).argParser(positiveInt('--rate')))
    .addOption(new Option('--checkpoint <ms>', 'checkpoint interval').default(300).argParser(positiveInt('--checkpoint')))
    .addOption(new Option('--timeout <ms>', 'longest wait for the job to end after the last kill').default(120_000).argParser(positiveInt('--timeout')))
    .addOption(new Option('--seed <n>', 'random seed').default(Date.now() % 100000).argParser(positiveInt('--seed')))
    .option('-D, --define <key=value>', 'configuration for the cluster, e.g. -D state.backend.type=lmdb (repeatable)', collectDefine, {})
    .addOption(new Option('--taskmanager-heap-mb <n>', 'heap limit of each TaskManager (state larger than memory)').argParser(positiveInt('--taskmanager-heap-mb')))
    .action(
      action(async (opts: { job: string; taskmanagers: number; parallelism: number; kills: number; jobmanagerKills: number; interval: number; records: number; keys: number; rate: number; checkpoint: number; timeout: number; seed: number; define: Record<string, string>; taskmanagerHeapMb?: number }) => {
        loadConfiguration({ overrides: opts.define }); // a bad key or value is said before any process starts
        const { runChaos } = await import('./commands/chaos');
        process.stdout.write(`chaos seed ${opts.seed}\n`);
        return runChaos({ ...opts, intervalMs: opts.interval, checkpointMs: opts.checkpoint, timeoutMs: opts.timeout });
      }),
    );

  program.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.stderr.write(`weir: ${describeError(err)}\n`);
    process.exit(2);
  }
}

if (!isMainThread && (workerData as { role?: string } | undefined)?.role === 'weir-slot') {
  void import('@weir/taskmanager').then((m) => m.runSlotWorker());
} else if (require.main === module) {
  void main(process.argv);
}
