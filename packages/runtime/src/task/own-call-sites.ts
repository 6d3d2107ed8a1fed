import type { Output, StreamOperator } from '@weir/api/src/internal';
import type { KeyGroupColumn } from '@weir/core';

/**
 * Closures compiled afresh for every task (new Function), not taken from one function
 * literal. V8 keeps what a call site has seen per function literal: a site in shared
 * runtime code that calls job code sees every job's functions that ever ran on the slot's
 * thread, soon too many to inline, and records got 1.6x slower per record from the fifth
 * job on (scripts/bench/hot-path.ts --jobs 5). A site compiled for one task sees one job's
 * functions only, as in the first job.
 */
type Forward = (op: StreamOperator, downstream: Output) => (value: unknown) => void;
type CheckThenForward = (check: (value: unknown) => void, op: StreamOperator, downstream: Output) => (value: unknown) => void;
type Select = (select: (value: unknown) => unknown) => (value: unknown) => unknown;

/** Hands a record to the next chained operator. */
export function forwardTo(op: StreamOperator, downstream: Output): (value: unknown) => void {
  const make = new Function('op', 'downstream', 'return function forward(value) { op.processElement(value, downstream); };') as Forward;
  return make(op, downstream);
}

/** Checks a record against the serializer contract, then hands it to the next chained operator. */
export function checkThenForwardTo(check: (value: unknown) => void, op: StreamOperator, downstream: Output): (value: unknown) => void {
  const make = new Function('check', 'op', 'downstream', 'return function checkThenForward(value) { check(value); op.processElement(value, downstream); };') as CheckThenForward;
  return make(check, op, downstream);
}

/** Calls a job's key selector from a site of this task's own. */
export function ownKeySelector(select: (value: unknown) => unknown): (value: unknown) => unknown {
  const make = new Function('select', 'return function key(value) { return select(value); };') as Select;
  return make(select);
}

type KeyedProcess = (record: unknown, keyGroups: KeyGroupColumn | undefined, index: number) => void;

/**
 * A keyed task's step for one input record: sets the current key (with the producer's key
 * group when it was computed for this max parallelism), then runs the chain.
 */
export function keyedStep(
  keySelector: (value: unknown) => unknown,
  setKey: (key: unknown, keyGroup: number | undefined) => void,
  head: Output,
  maxParallelism: number,
): KeyedProcess {
  const make = new Function('keySelector', 'setKey', 'head', 'maxParallelism', `return function keyedStep(record, keyGroups, index) {
    setKey(keySelector(record), keyGroups !== undefined && keyGroups.maxParallelism === maxParallelism ? keyGroups.groups[index] : undefined);
    head.collect(record);
  };`) as (...args: unknown[]) => KeyedProcess;
  return make(keySelector, setKey, head, maxParallelism);
}

/** A task's step for one input record, not keyed: runs the chain. */
export function plainStep(head: Output): KeyedProcess {
  const make = new Function('head', 'return function plainStep(record) { head.collect(record); };') as (head: Output) => KeyedProcess;
  return make(head);
}
