#!/usr/bin/env node
// weir-prepare-dirs [--own] DIR... : run as root by the compose file's one-shot `prepare`
// service, before any Weir process starts. Makes each DIR exist and be writable by the user
// the Weir services run as (WEIR_RUN_AS, uid:gid, default 1000:1000), whoever created it:
// Docker creates a missing bind-mount source as root, so without this a fresh clone's
// `.weir/docker-output` is never writable by uid 1000.
//  - writable already: left alone;
//  - --own (a directory only Weir uses, the checkpoint volume): chown -R to the user;
//  - owned by root (made by Docker, or by root): chown to the user;
//  - owned by someone else: not taken from them; one line with the fix, exit 1.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const [uid, gid] = (process.env.WEIR_RUN_AS || '1000:1000').split(':').map(Number);
let own = false;
let failed = false;

function writableBy(dir) {
  return spawnSync('test', ['-w', dir], { uid, gid }).status === 0;
}

function chownTree(p) {
  fs.lchownSync(p, uid, gid);
  if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e));
}

for (const arg of process.argv.slice(2)) {
  if (arg === '--own') { own = true; continue; }
  fs.mkdirSync(arg, { recursive: true });
  if (writableBy(arg)) continue;
  const owner = fs.statSync(arg).uid;
  if (own) {
    chownTree(arg);
    console.log(`prepare: ${arg} now belongs to ${uid}:${gid}`);
  } else if (owner === 0) {
    fs.chownSync(arg, uid, gid);
    console.log(`prepare: ${arg} (made by root) now belongs to ${uid}:${gid}, the user Weir runs as`);
  } else {
    console.error(`prepare: ${arg} belongs to uid ${owner} and is not writable by uid ${uid}, the user Weir runs as: make it writable (chmod o+w), or run as its owner (WEIR_HOST_UID=${owner} WEIR_HOST_GID=${fs.statSync(arg).gid})`);
    failed = true;
  }
  if (!writableBy(arg)) {
    console.error(`prepare: ${arg} is still not writable by uid ${uid}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
