/** Says so in the log when the JobManager listens beyond loopback without its locks on. */
import type { Configuration, Logger } from '@weir/core';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function warnIfExposed(config: Configuration, hasToken: boolean, log: Logger): void {
  const hosts = [config.getString('jobmanager.bind-host'), config.getString('rest.bind-address')];
  if (hosts.every((h) => LOOPBACK.test(h))) return;
  const missing = [
    config.get('security.ssl.internal.enabled') === true ? '' : 'security.ssl.internal.enabled',
    hasToken ? '' : 'security.auth.token',
  ].filter(Boolean);
  if (missing.length) log.warn({ bind: hosts, missing }, 'listening beyond loopback without TLS or a token: anyone who reaches these ports can run code on the TaskManagers (see docs/security.md)');
}
