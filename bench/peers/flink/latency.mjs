// The Flink side of scripts/bench/latency.mjs: the Maven build and the cluster of cluster.mjs
// that it runs LatencyJob on, with the cluster's defaults (no restart or REST settings of
// run.mjs: the latency benchmark kills nothing and polls little).
import { FlinkCluster as Cluster, buildFlinkJobs } from './cluster.mjs';

export { buildFlinkJobs };

export class FlinkCluster extends Cluster {
  constructor(root, name, numTms, options = {}) {
    // WARN: the JVMs write no INFO lines (one per checkpoint and more) while latency is measured.
    super(root, name, numTms, { logLevel: 'WARN', ...options });
  }
}
