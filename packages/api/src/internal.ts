/** For the runtime only: what a job author never needs. */
export type { SourceOperator, StreamOperator, SourceStep, OperatorContext, Output } from './operator';
export type { VertexPlan, JobPlan, GraphShape, GraphVertex, GraphEdge } from './graph';
export { StreamExecutionEnvironment } from './environment';
export { setPrintHandler, type PrintHandler } from './operators/print-output';
