package dev.weir.bench;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/** Keyed running sum in a ValueState<Long>; emits (key, sum) for every input record. */
public class RunningSum extends KeyedProcessFunction<Long, Tuple2<Long, Long>, Tuple2<Long, Long>> {
    private static final long serialVersionUID = 1L;
    private transient ValueState<Long> sum;

    @Override
    public void open(OpenContext openContext) {
        sum = getRuntimeContext().getState(new ValueStateDescriptor<>("sum", Long.class));
    }

    @Override
    public void processElement(Tuple2<Long, Long> in, Context ctx, Collector<Tuple2<Long, Long>> out)
            throws Exception {
        Long cur = sum.value();
        long next = (cur == null ? 0L : cur) + in.f1;
        sum.update(next);
        in.f1 = next; // reuse the record object
        out.collect(in);
    }
}
