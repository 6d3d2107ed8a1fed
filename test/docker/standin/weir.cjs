#!/usr/bin/env node
// Stand-in for packages/cli/dist/weir.cjs, used only to exercise the Docker
// plumbing (image, compose, healthchecks, DNS between containers) before or
// without the real Weir bundle. NOT Weir. Copy it to packages/cli/dist/weir.cjs
// (gitignored) or run `scripts/docker/build.sh --standin`.
//
//   jobmanager                      TCP line protocol on jobmanager.rpc.port, HTTP on rest.port
//   taskmanager --jobmanager H:P    listens on taskmanager.data.port, registers H:dataPort with the JM
//   taskmanagers --json --jobmanager H:P   prints the registered TaskManagers
'use strict';
const net = require('node:net');
const http = require('node:http');
const os = require('node:os');

function properties() {
  const out = {};
  for (const line of (process.env.WEIR_PROPERTIES || '').split('\n')) {
    const m = /^\s*([^:#\s][^:]*?)\s*:\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}
const props = properties();
const args = process.argv.slice(2);
const cmd = args[0];
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const log = (...a) => console.log(new Date().toISOString(), `[standin ${cmd}]`, ...a);
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => { log('got', s); process.exit(0); });

function splitHostPort(s) { const i = s.lastIndexOf(':'); return [s.slice(0, i), Number(s.slice(i + 1))]; }

if (cmd === 'jobmanager') {
  const port = Number(props['jobmanager.rpc.port'] || 6123);
  const restPort = Number(props['rest.port'] || 8081);
  const bind = props['jobmanager.bind-host'] || '0.0.0.0';
  const tms = new Map(); // address -> {address, verified, since}
  net.createServer((sock) => {
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim(); buf = buf.slice(i + 1);
        if (line.startsWith('register ')) {
          const address = line.slice(9);
          const [h, p] = splitHostPort(address);
          // Connect back to the advertised address: proves it is reachable from the JM.
          const probe = net.connect(p, h, () => {
            probe.destroy();
            tms.set(address, { address, since: Date.now() });
            log('registered', address, 'total', tms.size);
            sock.write('ok\n');
          });
          probe.on('error', (e) => { log('cannot reach advertised', address, e.message); sock.write('unreachable\n'); sock.destroy(); });
          sock.on('close', () => { if (tms.delete(address)) log('lost', address, 'total', tms.size); });
        } else if (line === 'list') {
          sock.end(JSON.stringify([...tms.values()]) + '\n');
        }
      }
    });
    sock.on('error', () => {});
  }).listen(port, bind, () => log(`rpc on ${bind}:${port}`));
  http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ taskmanagers: [...tms.values()] }));
  }).listen(restPort, bind, () => log(`rest on ${bind}:${restPort}`));
} else if (cmd === 'taskmanager') {
  const [jh, jp] = splitHostPort(opt('--jobmanager', 'localhost:6123'));
  const dataPort = Number(props['taskmanager.data.port'] || 6124);
  const host = props['taskmanager.host'] || os.hostname();
  net.createServer((s) => s.end()).listen(dataPort, '0.0.0.0', () => log(`data port ${dataPort}, advertising ${host}:${dataPort}`));
  const connect = () => {
    const sock = net.connect(jp, jh, () => sock.write(`register ${host}:${dataPort}\n`));
    sock.on('data', (d) => log('jobmanager says', String(d).trim()));
    sock.on('error', (e) => log('jobmanager connection error', e.message));
    sock.on('close', () => setTimeout(connect, 1000));
  };
  connect();
} else if (cmd === 'taskmanagers') {
  const [jh, jp] = splitHostPort(opt('--jobmanager', 'localhost:6123'));
  const sock = net.connect(jp, jh, () => sock.write('list\n'));
  let buf = '';
  sock.on('data', (d) => (buf += d));
  sock.on('end', () => {
    const tms = JSON.parse(buf);
    if (args.includes('--json')) console.log(JSON.stringify(tms));
    else for (const t of tms) console.log(t.address);
  });
  sock.on('error', (e) => { console.error(e.message); process.exit(1); });
} else if (cmd === 'security') {
  log('stand-in: no certificates made'); // compose's one-shot security-init only needs to exit 0
} else if (cmd === '--version' || cmd === 'version') {
  console.log('weir standin 0.0.0');
} else {
  console.error(`standin weir: unsupported command ${cmd}`);
  process.exit(2);
}
