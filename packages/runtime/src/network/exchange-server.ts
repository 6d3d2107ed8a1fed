import {
  grpc, protos, bindServer, DATA_CHANNEL_OPTIONS, internalServerCredentials, peerCommonName, tokenMatches, type ConsumerMessage, type Logger, type TlsMaterial,
} from '@weir/core';
import { batchBytes, type ChannelItem } from './events';
import { partitionKey, type PartitionRegistry } from './partition-registry';

const PARTITION_LOOKUP_TIMEOUT_MS = 30_000;

/** Serves a slot's result partitions to consumers on other slots and TaskManagers. */
export async function startExchangeServer(registry: PartitionRegistry, address: string, log: Logger, tls?: TlsMaterial): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server(DATA_CHANNEL_OPTIONS);
  server.addService(protos().DataExchange.service, {
    Consume: (call: grpc.ServerDuplexStream<ConsumerMessage, unknown>) => {
      // The handshake already wants our CA; a client certificate (the CLI's) is not a TaskManager.
      if (tls && peerCommonName(call) !== tls.commonName) {
        call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'data exchange needs the cluster certificate' });
        return;
      }
      let subpartition: import('./result-subpartition').ResultSubpartition | undefined;
      let closed = false;
      call.on('data', async (msg: ConsumerMessage) => {
        if (msg.kind === 'credit') {
          if (subpartition && msg.credit.batch_bytes > 0) subpartition.batchBytes = msg.credit.batch_bytes;
          if (msg.credit.credit > 0) subpartition?.addCredit(msg.credit.credit);
          return;
        }
        if (msg.kind !== 'request') return;
        const r = msg.request;
        const key = partitionKey(r.job_id, r.attempt, r.producer_vertex_id, r.producer_subtask, r.consumer_vertex_id);
        const partition = await registry.lookup(key, PARTITION_LOOKUP_TIMEOUT_MS);
        const target = partition?.subpartitions[r.consumer_subtask];
        if (closed) return;
        if (!target) {
          call.emit('error', { code: grpc.status.NOT_FOUND, details: `no partition ${key}#${r.consumer_subtask}` });
          return;
        }
        // Only a consumer of the same attempt knows the token the JobManager gave its tasks.
        if (partition?.token && !tokenMatches(partition.token, r.token)) {
          log.warn({ partition: key, peer: call.getPeer() }, 'partition request refused: wrong exchange token');
          call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: `partition ${key}: wrong exchange token` });
          return;
        }
        subpartition = target;
        target.attach(
          {
            deliver: (item: ChannelItem) => {
              if (closed) return;
              if (item.kind === 'batch') call.write({ batch: { data: batchBytes(item), count: item.count } });
              else if (item.kind === 'barrier') call.write({ barrier: { checkpoint_id: item.checkpointId, timestamp: item.timestamp, unaligned: !!item.unaligned, final: !!item.final } });
              else {
                call.write({ end: {} });
                call.end();
                closed = true;
              }
            },
          },
          r.initial_credit,
        );
      });
      const close = () => {
        closed = true;
      };
      call.on('cancelled', close);
      call.on('error', (err) => {
        close();
        log.debug({ err: err.message }, 'consumer stream error');
      });
      call.on('end', () => {
        if (!closed) call.end();
        close();
      });
    },
  });
  const port = await bindServer(server, address, internalServerCredentials(tls));
  return { server, port };
}
