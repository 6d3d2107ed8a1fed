import { FileSink, type StreamExecutionEnvironment } from '@weir/api';

/**
 * A map that emits one record the serializer contract refuses (record 5), or a key
 * selector that returns a key Flink refuses, chained to the next operator or not.
 * Args: output KIND chained|split
 */
class Unregistered {
  constructor(readonly v: number) {}
}

const makers: Record<string, (i: number) => unknown> = {
  function: (i) => ({ i, items: [0, 1, { handler: () => i }] }),
  symbol: (i) => ({ i, tag: Symbol('t') }),
  circular: (i) => {
    const r: Record<string, unknown> = { i, child: { n: 1 } };
    (r.child as Record<string, unknown>).parent = r;
    return r;
  },
  unregistered: (i) => ({ i, at: new Unregistered(i) }),
  error: (i) => ({ i, err: new RangeError('boom') }),
};

const keys: Record<string, (r: { i: number }) => unknown> = {
  'undefined-key': (r) => (r.i === 5 ? undefined : r.i),
  'null-key': (r) => (r.i === 5 ? null : r.i),
  'function-key': (r) => (r.i === 5 ? () => 1 : r.i),
};

export default function badRecords(env: StreamExecutionEnvironment, args: string[]): void {
  const [output, kind, mode] = args;
  const numbers = env.generate((i) => ({ i }), { count: 20 }).uid('numbers');
  if (keys[kind]) {
    numbers
      .keyBy(keys[kind])
      .reduce((a, b) => ({ i: a.i + b.i }))
      .uid('count')
      .map((r) => String(r.i))
      .sinkTo(FileSink.forRowFormat<string>(output).build());
    return;
  }
  const made = numbers.map((r) => (r.i === 5 ? makers[kind](r.i) : { i: r.i })).uid('make');
  (mode === 'split' ? made.rebalance() : made)
    .map((r) => String((r as { i: number }).i))
    .uid('print')
    .sinkTo(FileSink.forRowFormat<string>(output).build());
}
