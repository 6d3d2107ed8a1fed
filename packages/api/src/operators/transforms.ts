import type { FilterFunction, FlatMapFunction, MapFunction, ProcessContext, ProcessFunction, ReduceFunction } from '../functions';
import type { OperatorContext, Output, StreamOperator } from '../operator';
import { ValueStateDescriptor, type ValueState } from '../state';

export function mapOperator<IN, OUT>(fn: MapFunction<IN, OUT>): StreamOperator<IN, OUT> {
  return { processElement: (value, out) => out.collect(fn(value)) };
}

export function filterOperator<IN>(fn: FilterFunction<IN>): StreamOperator<IN, IN> {
  return {
    processElement: (value, out) => {
      if (fn(value)) out.collect(value);
    },
  };
}

export function flatMapOperator<IN, OUT>(fn: FlatMapFunction<IN, OUT>): StreamOperator<IN, OUT> {
  return {
    processElement: (value, out) => {
      const result = fn(value, out);
      if (result) for (const item of result) out.collect(item);
    },
  };
}

/** Keyed running reduce: emits the new aggregate for every input, as Flink's reduce does. */
export function reduceOperator<T>(fn: ReduceFunction<T>): StreamOperator<T, T> {
  let state: ValueState<T>;
  return {
    open: (ctx: OperatorContext) => {
      state = ctx.getState(new ValueStateDescriptor<T>('reduce'));
    },
    processElement: (value, out) => {
      const current = state.value();
      const next = current === undefined ? value : fn(current, value);
      state.update(next);
      out.collect(next);
    },
  };
}

export function processOperator<IN, OUT>(fn: ProcessFunction<IN, OUT> | ((value: IN, ctx: ProcessContext, out: Output<OUT>) => void)): StreamOperator<IN, OUT> {
  const processFn: ProcessFunction<IN, OUT> = typeof fn === 'function' ? { processElement: fn } : fn;
  let context: ProcessContext;
  return {
    open: (ctx: OperatorContext) => {
      context = { runtime: ctx, getState: (d) => ctx.getState(d), currentKey: () => ctx.currentKey() };
      processFn.open?.(context);
    },
    processElement: (value, out) => processFn.processElement(value, context, out),
  };
}
