import { FileSink, type StreamExecutionEnvironment } from '@weir/api';

/**
 * Records of `mib` MiB each cross TaskManagers: generator (p=2) -> rebalance -> a map on
 * both TaskManagers that checks each record's size and content -> exactly-once file sink.
 * Commits "i <bytes>" per record. Args: outputDir count mib.
 */
export default function largeRecords(env: StreamExecutionEnvironment, args: string[]): void {
  const [output, count = '8', mib = '1'] = args;
  const bytes = Math.round(Number(mib) * 1024 * 1024);
  env.enableCheckpointing(500);
  env
    .generate((i) => ({ i, body: String.fromCharCode(97 + (i % 26)).repeat(bytes) }), { count: Number(count) })
    .uid('large')
    .rebalance()
    .map((r: { i: number; body: string }) => {
      const intact = r.body.length === bytes && r.body[0] === String.fromCharCode(97 + (r.i % 26)) && r.body[bytes - 1] === r.body[0];
      return `${r.i} ${intact ? r.body.length : 'damaged'}`;
    })
    .uid('check')
    .sinkTo(FileSink.forRowFormat<string>(output).build())
    .uid('sink');
}
