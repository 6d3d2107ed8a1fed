package dev.weir.bench;

import java.io.BufferedWriter;
import java.io.File;
import java.io.FileWriter;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.RichSinkFunction;
import org.apache.flink.streaming.api.functions.source.RichParallelSourceFunction;

/**
 * The twin of Weir's packages/examples/src/bench-latency.ts: generator (key i % keys, value 1,
 * ts = wall clock ms at emission) -> keyBy(key) -> running sum (ValueState&lt;Long&gt;) emitting
 * (key, sum, ts) -> a sink that puts (now - ts) of every record into a log-bucket histogram and
 * once a second appends that second's histogram as a JSON line to
 * {out-dir}/latency-{subtask}-{attempt}.jsonl (format: scripts/bench/lib/latency-histogram.mjs).
 *
 * <p>Args: --out-dir DIR, --keys N (default 10000), --checkpoint-interval-ms MS (default 1000),
 * --rate R records/s over all source subtasks (0 = unthrottled, default), --parallelism P,
 * --buffer-timeout-ms MS (default: Flink's, 100 ms), --hops 1|2 (2: the sum's output is
 * rebalanced to the sink, a second network hop whose sender is not a source).
 */
public class LatencyJob {

    /**
     * Wall clock in ms with a fraction: System.nanoTime (the machine's monotonic clock) plus an
     * offset to the epoch taken once per JVM from Instant.now (microseconds on Linux).
     */
    static final class WallClock {
        private static final double OFFSET_MS;

        static {
            Instant i = Instant.now();
            long n = System.nanoTime();
            OFFSET_MS = i.getEpochSecond() * 1000.0 + i.getNano() / 1e6 - n / 1e6;
        }

        static double nowMs() {
            return System.nanoTime() / 1e6 + OFFSET_MS;
        }
    }

    /** Subtask s of p emits i = s, s + p, ...; rate-limited as GeneratorSource (1 record per lock). */
    static final class StampingGenerator extends RichParallelSourceFunction<Tuple3<Long, Long, Double>> {
        private static final long serialVersionUID = 1L;
        private final long keys;
        private final long ratePerSubtask;
        private volatile boolean running = true;

        StampingGenerator(long keys, long ratePerSubtask) {
            this.keys = keys;
            this.ratePerSubtask = ratePerSubtask;
        }

        @Override
        public void run(SourceContext<Tuple3<Long, Long, Double>> ctx) throws Exception {
            final int p = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
            final int s = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
            final Object lock = ctx.getCheckpointLock();
            final long start = System.nanoTime();
            final int batch = ratePerSubtask > 0 ? 1 : 64;
            long emitted = 0;
            while (running) {
                if (ratePerSubtask > 0) {
                    long due = (System.nanoTime() - start) * ratePerSubtask / 1_000_000_000L;
                    if (emitted >= due) {
                        Thread.sleep(1);
                        continue;
                    }
                }
                synchronized (lock) {
                    for (int b = 0; b < batch; b++) {
                        long i = emitted * p + s;
                        ctx.collect(Tuple3.of(i % keys, 1L, WallClock.nowMs()));
                        emitted++;
                    }
                }
            }
        }

        @Override
        public void cancel() {
            running = false;
        }
    }

    static final class KeyOf implements KeySelector<Tuple3<Long, Long, Double>, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long getKey(Tuple3<Long, Long, Double> t) {
            return t.f0;
        }
    }

    /** (key, value, ts) in, (key, sum, ts) out. */
    static final class StampedSum extends RunningSum<Tuple3<Long, Long, Double>, Tuple3<Long, Long, Double>> {
        private static final long serialVersionUID = 1L;

        @Override
        protected long valueOf(Tuple3<Long, Long, Double> in) {
            return in.f1;
        }

        @Override
        protected Tuple3<Long, Long, Double> withSum(Tuple3<Long, Long, Double> in, long sum) {
            in.f1 = sum; // reuse the record object
            return in;
        }
    }

    static final class LatencySink extends RichSinkFunction<Tuple3<Long, Long, Double>> {
        private static final long serialVersionUID = 1L;
        private static final int SUB = 128;
        private static final int HALF = SUB / 2;
        private final String outDir;
        private transient BufferedWriter w;
        private transient long[] counts;
        private transient long n;
        private transient long maxUs;
        private transient double from;
        private transient int subtask;
        private transient int attempt;

        LatencySink(String outDir) {
            this.outDir = outDir;
        }

        /** Exact below 128 us, then 64 buckets per power of two; the same as bench-latency.ts. */
        static int bucketOf(long us) {
            if (us < SUB) {
                return (int) us;
            }
            int shift = 63 - Long.numberOfLeadingZeros(us) - 6;
            return SUB + (shift - 1) * HALF + (int) ((us >>> shift) - HALF);
        }

        @Override
        public void open(OpenContext openContext) throws IOException {
            subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
            attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
            File dir = new File(outDir);
            dir.mkdirs();
            w = new BufferedWriter(new FileWriter(new File(dir, "latency-" + subtask + "-" + attempt + ".jsonl"), true));
            counts = new long[bucketOf(0x7fffffffL) + 1];
            from = WallClock.nowMs();
        }

        private void report(double now) throws IOException {
            StringBuilder b = new StringBuilder(4096);
            b.append("{\"from\":").append(from).append(",\"to\":").append(now)
                    .append(",\"subtask\":").append(subtask).append(",\"attempt\":").append(attempt)
                    .append(",\"n\":").append(n).append(",\"max_us\":").append(maxUs).append(",\"h\":{");
            boolean first = true;
            for (int i = 0; i < counts.length; i++) {
                if (counts[i] != 0) {
                    if (!first) {
                        b.append(',');
                    }
                    first = false;
                    b.append('"').append(i).append("\":").append(counts[i]);
                    counts[i] = 0;
                }
            }
            b.append("}}\n");
            w.write(b.toString());
            w.flush();
            n = 0;
            maxUs = 0;
            from = now;
        }

        @Override
        public void invoke(Tuple3<Long, Long, Double> value, Context context) throws IOException {
            double now = WallClock.nowMs();
            long us = Math.min(0x7fffffffL, Math.max(0L, Math.round((now - value.f2) * 1000)));
            counts[bucketOf(us)]++;
            n++;
            if (us > maxUs) {
                maxUs = us;
            }
            if (now - from >= 1000) {
                report(now);
            }
        }

        @Override
        public void close() throws IOException {
            if (w != null) {
                if (n > 0) {
                    report(WallClock.nowMs());
                }
                w.close();
            }
        }
    }

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String outDir = a.required("out-dir");
        StreamExecutionEnvironment env = Jobs.env(a, 1000);
        long bufferTimeout = a.getLong("buffer-timeout-ms", -1);
        if (bufferTimeout >= 0) {
            env.setBufferTimeout(bufferTimeout);
        }
        int p = env.getParallelism();
        long rate = a.getLong("rate", 0);
        DataStream<Tuple3<Long, Long, Double>> sums = env
                .addSource(new StampingGenerator(a.getLong("keys", 10_000), rate > 0 ? Math.max(1, rate / p) : 0))
                .name("generator").uid("generator")
                .keyBy(new KeyOf())
                .process(new StampedSum())
                .name("sum").uid("sum");
        (a.getInt("hops", 1) == 2 ? sums.rebalance() : sums).addSink(new LatencySink(outDir)).name("latency").uid("latency");
        env.execute(a.get("name", "weir-bench-latency"));
    }
}
