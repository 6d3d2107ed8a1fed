import { describe, expect, it } from 'vitest';
import { JobSourceMap } from './job-source-map';

// A two-line bundle whose second line (column 10 on) comes from /home/me/jobs/job.ts line 6, column 5.
const MAP = { version: 3, sources: ['file:///home/me/jobs/job.ts'], names: [], mappings: ';UAKI' };
const BUNDLE = `"use strict";\nfunction f() { throw new Error("x"); }\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(MAP)).toString('base64')}\n`;
const FILE = '/tmp/slot/job-abc.js';

describe('JobSourceMap', () => {
  const map = JobSourceMap.fromBundle(BUNDLE, FILE)!;

  it("maps the bundle's frames to the job's own file and line", () => {
    expect(map.mapFrame(`    at f (${FILE}:2:16)`)).toBe('    at f (/home/me/jobs/job.ts:6:5)');
    expect(map.mapFrame(`    at ${FILE}:2:16`)).toBe('    at /home/me/jobs/job.ts:6:5');
  });

  it('leaves frames elsewhere, and frames Node has mapped already, as they are', () => {
    for (const frame of ['    at f (/home/me/jobs/job.ts:6:5)', '    at g (/tmp/slot/job-abcd.js:2:16)', '    at h (node:internal/x:1:1)']) {
      expect(map.mapFrame(frame)).toBe(frame);
    }
  });

  it('has no map for a bundle without one', () => {
    expect(JobSourceMap.fromBundle('"use strict";\n', FILE)).toBeUndefined();
  });
});
