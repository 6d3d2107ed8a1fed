import { FileSink, ValueStateDescriptor, type StreamExecutionEnvironment } from '@weir/api';

/**
 * Keys that are plain objects written with their fields in either order, holding a BigInt:
 * both orders must be one key. Output "tenant id count" for every record.
 * Args: output N
 */
export function keyOf(i: number): { tenant: string; id: bigint } {
  const tenant = `t${i % 3}`;
  const id = BigInt(i % 5) * 10n ** 18n;
  return i % 2 ? { tenant, id } : ({ id, tenant } as { tenant: string; id: bigint });
}

export default function keyKinds(env: StreamExecutionEnvironment, args: string[]): void {
  const [output, n] = args;
  const count = new ValueStateDescriptor<number>('count', 0);
  env
    .generate((i) => ({ i, key: keyOf(i) }), { count: Number(n) })
    .uid('records')
    .keyBy((r) => r.key)
    .process<string>((r, ctx, out) => {
      const state = ctx.getState(count);
      state.update((state.value() ?? 0) + 1);
      out.collect(`${r.key.tenant} ${r.key.id} ${state.value()}`);
    })
    .uid('count')
    .sinkTo(FileSink.forRowFormat<string>(output).build());
}
