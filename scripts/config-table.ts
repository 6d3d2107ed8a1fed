// Prints README's configuration table from the one schema in packages/core (npm run docs:config).
import { CONFIG_OPTIONS } from '../packages/core/src/config-schema';

const ALIASES = /^(fixeddelay|failurerate|exponentialdelay|disable|off)$/;
const rows = CONFIG_OPTIONS.map((o) => {
  const type = o.type === 'enum' ? (o.values ?? []).filter((v) => !ALIASES.test(v)).join(' / ') : o.type;
  const def = o.default === undefined ? '-' : o.type === 'duration' ? `${o.default} ms` : o.type === 'memory' ? `${o.default} bytes` : String(o.default);
  return `| \`${o.key}\` | ${type} | ${def} | ${o.doc} |`;
});
console.log(['| key | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n'));
