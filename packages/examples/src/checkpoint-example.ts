import { RestartStrategies, StreamExecutionEnvironment } from '@weir/api';

/** Java's Integer.parseInt: an integer, or an error for anything else (never null or NaN). */
const Integer = {
  parseInt(line: string): number {
    if (!/^\s*[+-]?\d+\s*$/.test(line)) throw new Error(`For input string: "${line}"`);
    return Number(line);
  },
};

// The article's program, line for line: numbers from a socket, printed as they arrive,
// checkpointed every 5 s. A bad line fails the map; the job restarts 3 times, 1 s apart,
// and fails for good at the fourth bad line.
const env = StreamExecutionEnvironment.getExecutionEnvironment();
env.enableCheckpointing(5000);
env.setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 1000));
const text = env.socketTextStream('localhost', 9999);
const numbers = text.map(Integer.parseInt);
numbers.print().setParallelism(1);
env.execute('Checkpoint Example');
