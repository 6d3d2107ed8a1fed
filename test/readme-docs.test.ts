import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_OPTIONS } from '../packages/core/src/config-schema';

/** The README is the way in: it links every page under docs/, and its config table is the schema's. */
const ROOT = path.resolve(__dirname, '..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('links every page under docs/', () => {
    const pages = readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
    expect(pages.length).toBeGreaterThan(0);
    const unlinked = pages.filter((p) => !README.includes(`](docs/${p})`));
    expect(unlinked).toEqual([]);
  });

  it("documents every configuration key with the schema's meaning", () => {
    const missing = CONFIG_OPTIONS.filter((o) => !README.includes(`| \`${o.key}\` |`) || !README.includes(o.doc));
    expect(missing.map((o) => o.key)).toEqual([]);
  });

  it('runs the socket examples without nc (a fresh machine may not have it)', () => {
    const shellBlocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(shellBlocks.filter((b) => /(^|[|;&]\s*)nc\s/m.test(b))).toEqual([]);
    expect(shellBlocks.some((b) => b.includes('npx weir lines --port 9999'))).toBe(true);
  });
});
