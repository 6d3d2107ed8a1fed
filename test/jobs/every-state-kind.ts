import {
  FileSink, ListStateDescriptor, MapStateDescriptor, ReducingStateDescriptor, ValueStateDescriptor, type StreamExecutionEnvironment,
} from '@weir/api';

/**
 * One keyed operator that uses every kind of keyed state, for moving savepoints between
 * state backends: numbers 1..N from one source subtask (so each key sees its records in
 * order) -> key "u<n mod K>" -> per record one line
 *   "<key> <count> <last three numbers> <residue:count of n mod 3, sorted> <sum>"
 * value = count, list = last three numbers, map = residue counts (an entry is removed when
 * it reaches 4, so removals cross savepoints too), reducing = sum. The source and the
 * file sink keep operator state; the key stream has uid "kinds".
 * Args: output N keys rate checkpointMs
 */
export default function everyStateKind(env: StreamExecutionEnvironment, args: string[]): void {
  const [output, n, k, rate, interval] = args;
  const keys = Number(k);
  env.setJobName('every-state-kind');
  env.enableCheckpointing(Number(interval));
  const count = new ValueStateDescriptor<number>('count', 0);
  const last = new ListStateDescriptor<number>('last');
  const residues = new MapStateDescriptor<number, number>('residues');
  const sum = new ReducingStateDescriptor<number>('sum', (a, b) => a + b);
  env
    .generate((i) => i + 1, { count: Number(n), ratePerSecond: Number(rate) })
    .setParallelism(1)
    .uid('numbers')
    .keyBy((i: number) => `u${i % keys}`)
    .process<string>((i: number, ctx, out) => {
      const c = ctx.getState(count);
      c.update((c.value() ?? 0) + 1);
      const l = ctx.getState(last);
      l.add(i);
      if (l.get().length > 3) l.update(l.get().slice(-3));
      const m = ctx.getState(residues);
      const r = i % 3;
      m.put(r, (m.get(r) ?? 0) + 1);
      if (m.get(r) === 4) m.remove(r);
      const s = ctx.getState(sum);
      s.add(i);
      const map = m.entries().sort(([a], [b]) => a - b).map(([key, v]) => `${key}:${v}`).join(',');
      out.collect(`u${i % keys} ${c.value()} ${l.get().join(',')} ${map || '-'} ${s.get()}`);
    })
    .name('kinds')
    .uid('kinds')
    .sinkTo(FileSink.forRowFormat<string>(output).build())
    .uid('sink');
}
