import { grpc, protos, DATA_CHANNEL_OPTIONS, type PartitionRequest, type ProducerMessage } from '@weir/core';
import type { InputChannel } from './input-gate';

const clients = new Map<string, grpc.Client>();
let credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure();
let channelOptions: grpc.ChannelOptions = DATA_CHANNEL_OPTIONS;

/** Set once per slot thread before any channel connects (internal TLS or plain). */
export function setExchangeCredentials(c: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): void {
  credentials = c;
  channelOptions = { ...DATA_CHANNEL_OPTIONS, ...options };
}

function clientFor(address: string): grpc.Client {
  let client = clients.get(address);
  if (!client) {
    client = new (protos().DataExchange)(address, credentials, channelOptions);
    clients.set(address, client);
  }
  return client;
}

/** Connects a remote input channel: asks the producer's slot for the subpartition, returns credits. */
export function connectRemoteChannel(address: string, request: PartitionRequest, channel: InputChannel): () => void {
  const client = clientFor(address) as unknown as { Consume(): grpc.ClientDuplexStream<unknown, ProducerMessage> };
  const call = client.Consume();
  let done = false;
  call.on('data', (msg: ProducerMessage) => {
    if (msg.kind === 'batch') channel.deliver({ kind: 'batch', data: msg.batch.data, count: msg.batch.count });
    else if (msg.kind === 'barrier') channel.deliver({
        kind: 'barrier', checkpointId: msg.barrier.checkpoint_id, timestamp: msg.barrier.timestamp, unaligned: msg.barrier.unaligned, final: msg.barrier.final,
      });
    else if (msg.kind === 'end') {
      done = true;
      channel.deliver({ kind: 'end' });
    }
  });
  call.on('error', (err: grpc.ServiceError) => {
    if (done) return;
    done = true;
    channel.fail(new Error(`input channel ${channel.description} from ${address} broke: ${err.details || err.message}`));
  });
  call.on('end', () => {
    if (!done) channel.fail(new Error(`input channel ${channel.description} from ${address} closed before its end of partition`));
    done = true;
  });
  call.write({ request });
  channel.returnCredit = (n) => {
    if (!done) call.write({ credit: { credit: n } });
  };
  channel.requestBatchBytes = (bytes) => {
    if (!done) call.write({ credit: { credit: 0, batch_bytes: bytes } });
  };
  return () => {
    done = true;
    call.cancel();
  };
}
