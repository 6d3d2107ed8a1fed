import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  assertWritableDirectory, authToken, bindServer, CHANNEL_OPTIONS, ConfigError, createLogger, grpc, internalTls, jobManagerServerCredentials, onFaultPointHit, protos, type Configuration, type Logger,
} from '@weir/core';
import { entryGate } from './auth/entry-gate';
import { warnIfExposed } from './auth/exposure-warning';
import { JobPruner } from './job-pruner';
import { clientHandlers } from './client-service';
import { Dispatcher } from './dispatcher';
import { JobStore } from './job-store';
import { createJobManagerMetrics } from './metrics/jobmanager-metrics';
import { startRestServer } from './rest/rest-server';
import { ResourceManager } from './resource-manager';
import { sessionHandler } from './session-service';

export interface RunningJobManager {
  rpcPort: number;
  /** HTTP port of the REST API, the dashboard and `/metrics`. */
  restPort: number;
  dispatcher: Dispatcher;
  resourceManager: ResourceManager;
  config: Configuration;
  log: Logger;
  stop(): Promise<void>;
}

/** Starts the JobManager: gRPC for TaskManagers and clients, jobs resumed from its store. */
export async function startJobManager(config: Configuration): Promise<RunningJobManager> {
  const log = createLogger('jobmanager', config.getString('log.level'));
  onFaultPointHit((point, action) => log.warn({ point, action: action.kind }, 'fault point hit'));
  const heartbeatInterval = config.getNumber('heartbeat.interval');
  const rm = new ResourceManager(config.getNumber('heartbeat.timeout'), heartbeatInterval, log);
  const checkpointRoot = path.resolve(config.getOptionalString('state.checkpoints.dir') ?? '.weir/checkpoints');
  const storeDir = path.resolve(config.getOptionalString('jobmanager.store.dir') ?? '.weir/jobmanager');
  assertWritableDirectory(checkpointRoot, 'state.checkpoints.dir');
  assertWritableDirectory(storeDir, 'jobmanager.store.dir');
  const store = new JobStore(storeDir);
  const dispatcher = new Dispatcher(config, rm, store, checkpointRoot, log);
  dispatcher.recover();

  // Credentials are read once here; a missing or unreadable PEM stops the start with one line.
  const credentials = jobManagerServerCredentials(config);
  const token = authToken(config);
  const maxSubmission = config.getNumber('jobmanager.submission.max-size');
  const server = new grpc.Server({
    ...CHANNEL_OPTIONS,
    // A submission is one message: anything larger is refused before it is buffered whole.
    'grpc.max_receive_message_length': maxSubmission + 64 * 1024,
    interceptors: [entryGate({ internal: internalTls(config), token })],
  });
  const jobmanagerId = randomBytes(8).toString('hex');
  server.addService(protos().JobManagerService.service, { Session: sessionHandler(rm, dispatcher, heartbeatInterval, jobmanagerId, log) });
  server.addService(protos().ClientService.service, clientHandlers(dispatcher, rm));
  const pruner = new JobPruner(dispatcher, config.getNumber('jobstore.max-capacity'), config.getNumber('jobstore.expiration-time'), log);
  const bindAddress = `${config.getString('jobmanager.bind-host')}:${config.getNumber('jobmanager.rpc.port')}`;
  let rpcPort: number;
  try {
    rpcPort = await bindServer(server, bindAddress, credentials);
  } catch (err) {
    rm.close();
    const message = (err as Error).message;
    const tls = /x509|PEM|key values|certificate/i.test(message) ? ' (check the security.ssl.* certificate and key)' : '';
    const reason = /EADDRINUSE|address already in use/i.test(message) ? 'address already in use' : message;
    throw new ConfigError(`cannot listen on ${bindAddress} (jobmanager.rpc.port)${tls}: ${reason}`);
  }
  let rest: Awaited<ReturnType<typeof startRestServer>>;
  try {
    rest = await startRestServer({ dispatcher, rm, config, metrics: createJobManagerMetrics(dispatcher, rm), token }, log);
  } catch (err) {
    rm.close();
    server.forceShutdown();
    throw err;
  }
  log.info({ rpcPort, restPort: rest.port, checkpointRoot }, 'JobManager started');
  warnIfExposed(config, !!token, log);
  return {
    rpcPort,
    restPort: rest.port,
    dispatcher,
    resourceManager: rm,
    config,
    log,
    stop: async () => {
      pruner.close();
      rm.close();
      await rest.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
