import { SourceMap, type SourceMapPayload } from 'node:module';
import { fileURLToPath } from 'node:url';

const INLINE_MAP = /\/\/# sourceMappingURL=data:application\/json(?:;charset=[^;,]+)?;base64,([A-Za-z0-9+/=]+)\s*$/;

/**
 * A job bundle's own source map, kept for as long as the job's plan (and its tasks) live,
 * so a stack trace through the bundle can be mapped back to the job's files every time.
 *
 * Node's own mapping (process.setSourceMapsEnabled) is not enough for failure causes: its
 * cache holds the compiled module only weakly, and a job's module is referenced by nothing
 * once compiled, so after any full garbage collection Node maps the job's frames no more.
 * It also keys the cache by file name, so two bundles compiled under one name in a thread
 * would share the later's map. Mapping here is deterministic: by the bundle's exact file
 * name, with the map parsed from the bundle itself.
 */
export class JobSourceMap {
  private constructor(
    /** The absolute file name the bundle was compiled under, as its stack frames show it. */
    readonly file: string,
    private readonly map: SourceMap,
    /** Keeps the compiled module, and so Node's own cache entry for it, alive with this map. */
    readonly module?: object,
  ) {}

  /** The bundle's inline source map, if it carries one that parses. */
  static fromBundle(bundle: string, file: string, module?: object): JobSourceMap | undefined {
    const match = INLINE_MAP.exec(bundle.slice(-Math.min(bundle.length, 4 * 1024 * 1024)));
    if (!match) return undefined;
    try {
      const payload = JSON.parse(Buffer.from(match[1], 'base64').toString('utf8')) as SourceMapPayload;
      return new JobSourceMap(file, new SourceMap(payload), module);
    } catch {
      return undefined;
    }
  }

  /** `file:line:column` in the job's original source, or undefined when the map has no entry. */
  original(line: number, column: number): string | undefined {
    const entry = this.map.findEntry(line - 1, column - 1) as Partial<{ originalSource: string; originalLine: number; originalColumn: number }>;
    if (entry.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) return undefined;
    const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : entry.originalSource;
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  }

  /**
   * The stack frame line with each position in the bundle replaced by its original one.
   * Frames Node has mapped already, and frames elsewhere, are returned as they are.
   */
  mapFrame(frame: string): string {
    if (!frame.includes(this.file)) return frame;
    const positions = new RegExp(`${escapeRegExp(this.file)}:(\\d+):(\\d+)`, 'g');
    return frame.replace(positions, (whole, line: string, column: string) => this.original(Number(line), Number(column)) ?? whole);
  }

  /** A whole `err.stack`, frame by frame. */
  mapStack(stack: string): string {
    return stack
      .split('\n')
      .map((l) => (/^\s+at /.test(l) ? this.mapFrame(l) : l))
      .join('\n');
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
