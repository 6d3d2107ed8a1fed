package dev.weir.bench;

import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.SinkFunction;

/**
 * generator (keys i % keys, value 1) -> keyBy(key) -> running sum (ValueState<Long>) -> discard.
 *
 * <p>Args: --records N (0 = unbounded, default), --keys N (default 10000),
 * --checkpoint-interval-ms MS (0 = off, default), --parallelism P (default 2),
 * --rate R per source subtask (0 = unthrottled, default), --restart-delay-ms MS,
 * --checkpoint-dir URI.
 */
public class ThroughputJob {

    /** Discards everything (the sum is chained to it, so it costs one virtual call). */
    static final class Discard implements SinkFunction<Tuple2<Long, Long>> {
        private static final long serialVersionUID = 1L;

        @Override
        public void invoke(Tuple2<Long, Long> value, Context context) {}
    }

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        StreamExecutionEnvironment env = Jobs.env(a, 0);
        Jobs.pipeline(env, a, 10_000, 0).addSink(new Discard()).name("discard").uid("discard");
        env.execute(a.get("name", "weir-bench-throughput"));
    }
}
