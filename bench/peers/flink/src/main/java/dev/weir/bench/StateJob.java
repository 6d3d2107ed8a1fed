package dev.weir.bench;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.RichSinkFunction;
import org.apache.flink.util.Collector;

/**
 * The twin of Weir's packages/examples/src/bench-state.ts: the keyed running sum over
 * --keys keys. The generator's first keys/1000 elements each expand to 1000 distinct keys
 * (the state is loaded at full speed); every later element is one record with a
 * pseudo-random key, at --rate elements per second per source subtask. The sink writes
 * first-{subtask}-{attempt} (wall clock of its first record after a restart) and
 * loaded-{subtask}-{attempt} (first steady record) into --stats-dir.
 *
 * <p>Args: --keys N, --rate R per source subtask, --checkpoint-interval-ms MS,
 * --backend hashmap|rocksdb, --incremental true|false, --stats-dir DIR.
 */
public class StateJob {
    private static final long BLOCK = 1000;

    static long scatter(long i, long keys) {
        long h = i * 0x9E3779B97F4A7C15L;
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        h ^= h >>> 32;
        return Long.remainderUnsigned(h, keys);
    }

    /** (key, value) in, (key, sum, steady) out: steady marks a record of the steady phase (value 2). */
    static final class Sum extends RunningSum<Tuple2<Long, Long>, Tuple3<Long, Long, Boolean>> {
        private static final long serialVersionUID = 1L;

        @Override
        protected long valueOf(Tuple2<Long, Long> in) {
            return in.f1;
        }

        @Override
        protected Tuple3<Long, Long, Boolean> withSum(Tuple2<Long, Long> in, long sum) {
            return Tuple3.of(in.f0, sum, in.f1 == 2L);
        }
    }

    static final class Markers extends RichSinkFunction<Tuple3<Long, Long, Boolean>> {
        private static final long serialVersionUID = 1L;
        private final String statsDir;
        private transient boolean first;
        private transient boolean loaded;

        Markers(String statsDir) {
            this.statsDir = statsDir;
        }

        @Override
        public void open(OpenContext openContext) {
            first = true;
            loaded = false;
            new File(statsDir).mkdirs();
        }

        private void mark(String what) throws IOException {
            int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
            int attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
            Files.writeString(new File(statsDir, what + "-" + subtask + "-" + attempt).toPath(), Long.toString(System.currentTimeMillis()));
        }

        @Override
        public void invoke(Tuple3<Long, Long, Boolean> value, Context context) throws IOException {
            if (first && getRuntimeContext().getTaskInfo().getAttemptNumber() > 0) {
                mark("first");
            }
            first = false;
            if (!loaded && value.f2) {
                loaded = true;
                mark("loaded");
            }
        }
    }

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        StreamExecutionEnvironment env = Jobs.env(a, 1000);
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, a.get("backend", "rocksdb"));
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, Boolean.parseBoolean(a.get("incremental", "true")));
        env.configure(conf);
        final long keys = a.getLong("keys", 1_000_000);
        final long blocks = (keys + BLOCK - 1) / BLOCK;
        env.addSource(new GeneratorSource(0, Long.MAX_VALUE, a.getLong("rate", 10_000)))
                .name("generator").uid("generator")
                .flatMap((Tuple2<Long, Long> t, Collector<Tuple2<Long, Long>> out) -> {
                    long i = t.f0;
                    if (i < blocks) {
                        for (long key = i * BLOCK; key < Math.min(keys, (i + 1) * BLOCK); key++) {
                            out.collect(Tuple2.of(key, 1L));
                        }
                    } else {
                        out.collect(Tuple2.of(scatter(i, keys), 2L));
                    }
                })
                .returns(org.apache.flink.api.common.typeinfo.Types.TUPLE(org.apache.flink.api.common.typeinfo.Types.LONG, org.apache.flink.api.common.typeinfo.Types.LONG))
                .name("expand").uid("expand")
                .keyBy(new Jobs.KeyOf())
                .process(new Sum())
                .name("sum").uid("sum")
                .addSink(new Markers(a.get("stats-dir", "/tmp/weir-flink-state-stats"))).name("discard").uid("discard");
        env.execute(a.get("name", "weir-bench-state"));
    }
}
