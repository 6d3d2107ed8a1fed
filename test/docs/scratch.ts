// The scratch place where the docs are followed: a fresh clone of what is committed (plus,
// in development, what is not yet), a fresh HOME, an environment with nothing of ours in
// it, and the default ports free.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const git = (cwd: string, args: string[], env?: NodeJS.ProcessEnv) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }).trim();

export interface Source { commit: string; description: string }

/**
 * The commit to clone. A clean work tree gives HEAD. A dirty one (development) gives a
 * commit object made from HEAD plus every tracked change and every untracked, not ignored
 * file, built with a throw-away index so that the real index, the branches and the stash
 * stay as they are. CI's clone is always clean, so there it is HEAD exactly.
 */
export function sourceCommit(root: string): Source {
  const head = git(root, ['rev-parse', 'HEAD']);
  const dirty = git(root, ['status', '--porcelain', '--untracked-files=all']).split('\n').filter(Boolean);
  if (dirty.length === 0 || process.env.WEIR_DOC_TESTS_HEAD === '1') {
    return { commit: head, description: `HEAD ${head.slice(0, 10)}${dirty.length ? ` (${dirty.length} uncommitted changes left out: WEIR_DOC_TESTS_HEAD=1)` : ''}` };
  }
  const index = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'weir-doc-index-')), 'index');
  try {
    const env = { GIT_INDEX_FILE: index };
    git(root, ['read-tree', 'HEAD'], env);
    git(root, ['add', '-A'], env);
    const tree = git(root, ['write-tree'], env);
    const who = { GIT_AUTHOR_NAME: 'doc test', GIT_AUTHOR_EMAIL: 'doc-test@weir.invalid', GIT_COMMITTER_NAME: 'doc test', GIT_COMMITTER_EMAIL: 'doc-test@weir.invalid' };
    const commit = git(root, ['commit-tree', tree, '-p', head, '-m', 'doc test: work tree snapshot'], who);
    return { commit, description: `HEAD ${head.slice(0, 10)} + ${dirty.length} uncommitted changes (snapshot ${commit.slice(0, 10)})` };
  } finally {
    fs.rmSync(path.dirname(index), { recursive: true, force: true });
  }
}

export interface Scratch {
  /** The clone; its basename is unique, so compose's default project name is too. */
  dir: string;
  home: string;
  env: NodeJS.ProcessEnv;
  runId: string;
  remove(): void;
}

export function makeScratch(root: string, source: Source): Scratch {
  const runId = `${process.pid}${Math.random().toString(36).slice(2, 6)}`.replace(/[^a-z0-9]/g, '');
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-doc-test-'));
  const dir = path.join(parent, `weirdocs${runId}`);
  const home = path.join(parent, 'home');
  fs.mkdirSync(home);
  // --shared borrows the objects of this repository, snapshot commit included.
  git(parent, ['clone', '--quiet', '--shared', '--no-checkout', root, dir]);
  git(dir, ['checkout', '--quiet', '--detach', source.commit]);
  return { dir, home, env: scratchEnv(home, runId), runId, remove: () => fs.rmSync(parent, { recursive: true, force: true }) };
}

/** What a login shell would have: no npm_*, no WEIR_*, no node_modules/.bin of the checkout running the test. */
function scratchEnv(home: string, runId: string): NodeJS.ProcessEnv {
  const keep = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TERM', 'USER', 'LOGNAME', 'SHELL', 'DOCKER_HOST', 'CI'];
  const env: NodeJS.ProcessEnv = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k];
  env.PATH = (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter((p) => !p.includes('node_modules')).join(':');
  env.HOME = home;
  // Two runs on one Docker engine must not replace each other's image: build.sh and
  // docker-compose.yml both read WEIR_IMAGE. The image is removed at the end.
  env.WEIR_IMAGE = `weir:doctest${runId}`;
  return env;
}

const portError = (port: number) => new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
  const s = net.createServer();
  s.once('error', (e) => resolve(e));
  s.listen(port, '0.0.0.0', () => s.close(() => resolve(undefined)));
});

/**
 * The ports the docs use as written; throws one line when one is taken. A process that
 * has just been stopped may hold its port a moment longer, so a taken port is asked
 * again for up to `waitMs`.
 */
export async function assertPortsFree(ports: { port: number; what: string }[], waitMs = 20_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (const { port, what } of ports) {
    let error = await portError(port);
    while (error && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      error = await portError(port);
    }
    if (error) {
      throw new Error(`port ${port} (${what}) is ${error.code === 'EADDRINUSE' ? 'in use' : `not available (${error.code})`}: the docs are run as written, on the default ports; stop what listens there`);
    }
  }
}
