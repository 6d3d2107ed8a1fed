package dev.weir.bench;

import java.io.BufferedWriter;
import java.io.File;
import java.io.FileWriter;
import java.io.IOException;

import org.apache.flink.api.common.functions.OpenContext;

import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.RichSinkFunction;

/**
 * generator (keys i % keys, value 1) -> keyBy(key) -> running sum (ValueState<Long>) -> discard.
 *
 * <p>Args: --records N (0 = unbounded, default), --keys N (default 10000),
 * --checkpoint-interval-ms MS (0 = off, default), --parallelism P (default 2),
 * --rate R per source subtask (0 = unthrottled, default), --restart-delay-ms MS,
 * --checkpoint-dir URI, --stats-dir DIR (write record counts of the sink, see Discard).
 */
public class ThroughputJob {

    /**
     * Discards everything (the sum is chained to it). With --stats-dir it also counts records and,
     * at most every 200 ms (checked every 1024 records), appends "epochMillis count" to
     * {stats-dir}/counts-{subtask}-{attempt}.log, so a harness can compute the rate exactly.
     */
    static final class Discard extends RichSinkFunction<Tuple2<Long, Long>> {
        private static final long serialVersionUID = 1L;
        private final String statsDir;
        private transient BufferedWriter w;
        private transient long count;
        private transient long lastReport;

        Discard(String statsDir) {
            this.statsDir = statsDir;
        }

        @Override
        public void open(OpenContext openContext) throws IOException {
            if (statsDir != null) {
                int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
                int attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
                File dir = new File(statsDir);
                dir.mkdirs();
                w = new BufferedWriter(new FileWriter(new File(dir, "counts-" + subtask + "-" + attempt + ".log"), true));
                report(System.currentTimeMillis());
            }
        }

        private void report(long now) throws IOException {
            lastReport = now;
            w.write(now + " " + count + "\n");
            w.flush();
        }

        @Override
        public void invoke(Tuple2<Long, Long> value, Context context) throws IOException {
            if ((++count & 1023) == 0 && w != null) {
                long now = System.currentTimeMillis();
                if (now - lastReport >= 200) {
                    report(now);
                }
            }
        }

        @Override
        public void close() throws IOException {
            if (w != null) {
                report(System.currentTimeMillis());
                w.close();
            }
        }
    }

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        StreamExecutionEnvironment env = Jobs.env(a, 0);
        Jobs.pipeline(env, a, 10_000, 0).addSink(new Discard(a.get("stats-dir", null))).name("discard").uid("discard");
        env.execute(a.get("name", "weir-bench-throughput"));
    }
}
