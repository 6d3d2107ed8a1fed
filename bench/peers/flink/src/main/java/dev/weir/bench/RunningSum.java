package dev.weir.bench;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed running sum in a ValueState&lt;Long&gt; named "sum": adds each record's value to its
 * key's sum and emits one record per input, built from the input and the new sum. Subclasses
 * name the concrete record types (so Flink can extract them) and say what they emit.
 */
public abstract class RunningSum<IN, OUT> extends KeyedProcessFunction<Long, IN, OUT> {
    private static final long serialVersionUID = 1L;
    private transient ValueState<Long> sum;

    /** The value to add. */
    protected abstract long valueOf(IN in);

    /** The record to emit for `in` once its key's sum is `sum`. */
    protected abstract OUT withSum(IN in, long sum);

    @Override
    public void open(OpenContext openContext) {
        sum = getRuntimeContext().getState(new ValueStateDescriptor<>("sum", Long.class));
    }

    @Override
    public void processElement(IN in, Context ctx, Collector<OUT> out) throws Exception {
        Long cur = sum.value();
        long next = (cur == null ? 0L : cur) + valueOf(in);
        sum.update(next);
        out.collect(withSum(in, next));
    }

    /** (key, value) in, (key, sum) out. */
    public static final class OfPairs extends RunningSum<Tuple2<Long, Long>, Tuple2<Long, Long>> {
        private static final long serialVersionUID = 1L;

        @Override
        protected long valueOf(Tuple2<Long, Long> in) {
            return in.f1;
        }

        @Override
        protected Tuple2<Long, Long> withSum(Tuple2<Long, Long> in, long sum) {
            in.f1 = sum; // reuse the record object
            return in;
        }
    }
}
