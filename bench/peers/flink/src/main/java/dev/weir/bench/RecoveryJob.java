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
 * generator at a fixed rate (default 2000 rec/s per subtask) -> keyBy -> running sum -> a sink
 * that appends "epochMillis subtask attempt key sum" per record to
 * {out-dir}/sink-{subtask}-{attempt}.log (flushed per record), so a harness can see the first
 * output of a restarted attempt. Checkpoints every 1 s by default; fixed-delay restart.
 *
 * <p>Args: as ThroughputJob plus --out-dir DIR (required), --rate (default 2000),
 * --keys (default 10000), --checkpoint-interval-ms (default 1000).
 */
public class RecoveryJob {

    static final class FileLineSink extends RichSinkFunction<Tuple2<Long, Long>> {
        private static final long serialVersionUID = 1L;
        private final String outDir;
        private transient BufferedWriter w;
        private transient int subtask;
        private transient int attempt;

        FileLineSink(String outDir) {
            this.outDir = outDir;
        }

        @Override
        public void open(OpenContext openContext) throws IOException {
            subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
            attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
            File dir = new File(outDir);
            dir.mkdirs();
            w = new BufferedWriter(new FileWriter(new File(dir, "sink-" + subtask + "-" + attempt + ".log"), true));
        }

        @Override
        public void invoke(Tuple2<Long, Long> v, Context context) throws IOException {
            w.write(System.currentTimeMillis() + " " + subtask + " " + attempt + " " + v.f0 + " " + v.f1 + "\n");
            w.flush();
        }

        @Override
        public void close() throws IOException {
            if (w != null) {
                w.close();
            }
        }
    }

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String outDir = a.required("out-dir");
        StreamExecutionEnvironment env = Jobs.env(a, 1000);
        Jobs.pipeline(env, a, 10_000, 2000).addSink(new FileLineSink(outDir)).name("file-sink").uid("file-sink");
        env.execute(a.get("name", "weir-bench-recovery"));
    }
}
