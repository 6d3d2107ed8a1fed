import { FileSink, type StreamExecutionEnvironment } from '@weir/api';

/**
 * Records of every kind the serializer contract carries, described by a map that runs
 * chained to the source ("chained") or in another task ("split"). The description must be
 * the same either way and equal to describing the record where it was made.
 * Args: output N chained|split
 */
export class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
  norm1(): number {
    return Math.abs(this.x) + Math.abs(this.y);
  }
}

export function makeRecord(i: number) {
  return {
    i,
    p: new Point(i, -i),
    tags: new Set([`t${i % 3}`, 'all']),
    byKey: new Map([[i % 2, new Point(1, i)]]),
    z: i % 2 ? -0 : 0,
    big: BigInt(i) * 10n ** 20n,
    when: new Date(i * 1000),
    bytes: new Uint16Array([i, 65535]),
    missing: undefined,
    pattern: /x+y/g,
  };
}

export function describeRecord(r: ReturnType<typeof makeRecord>): string {
  const inMap = r.byKey instanceof Map ? r.byKey.get(r.i % 2) : undefined;
  return [
    r.i,
    r.p instanceof Point ? `Point ${r.p.norm1()}` : 'not a Point',
    r.tags instanceof Set ? `Set ${[...r.tags].join('|')}` : 'not a Set',
    inMap instanceof Point ? `Map Point ${inMap.norm1()}` : 'no Point in a Map',
    Object.is(r.z, -0) ? '-0' : String(r.z),
    typeof r.big === 'bigint' ? `${r.big}n` : `not a bigint: ${String(r.big)}`,
    r.when instanceof Date ? r.when.toISOString() : 'not a Date',
    r.bytes instanceof Uint16Array ? `Uint16Array ${r.bytes.join(',')}` : 'not a Uint16Array',
    'missing' in r ? 'undefined field kept' : 'undefined field lost',
    r.pattern instanceof RegExp ? `RegExp ${r.pattern.source} ${r.pattern.flags}` : 'not a RegExp',
  ].join(' ');
}

export default function recordTypes(env: StreamExecutionEnvironment, args: string[]): void {
  const [output, n, mode] = args;
  env.registerType(Point);
  const records = env.generate(makeRecord, { count: Number(n) }).uid('records');
  (mode === 'split' ? records.rebalance() : records)
    .map(describeRecord)
    .uid('describe')
    .sinkTo(FileSink.forRowFormat<string>(output).build());
}
