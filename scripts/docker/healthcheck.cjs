#!/usr/bin/env node
// Container healthcheck: succeeds when a TCP connection to HOST:PORT opens.
//   weir-healthcheck PORT [HOST]
// HOST defaults to the container's own hostname, so it works whether the
// process binds 0.0.0.0 or only the container's address. Kept to a plain TCP
// connect on purpose: it does not depend on any Weir CLI command.
'use strict';
const net = require('node:net');
const os = require('node:os');
const port = Number(process.argv[2]);
const host = process.argv[3] || os.hostname();
if (!port) { console.error('usage: weir-healthcheck PORT [HOST]'); process.exit(2); }
const sock = net.connect({ port, host, timeout: 2000 });
sock.on('connect', () => { sock.destroy(); process.exit(0); });
sock.on('timeout', () => { console.error(`timeout connecting to ${host}:${port}`); process.exit(1); });
sock.on('error', (e) => { console.error(`${host}:${port}: ${e.message}`); process.exit(1); });
