// Command-line parsing shared by the Weir and Flink benchmark harnesses.
/** --flag / --key value parsing; booleans listed in `flags`. */
export function parseArgv(argv, flags, usage) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') { console.error(usage); process.exit(0); }
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}\n${usage}`);
    const k = a.slice(2);
    if (flags.includes(k)) o[k] = true;
    else if (i + 1 >= argv.length) throw new Error(`${a} expects a value\n${usage}`);
    else o[k] = argv[++i];
  }
  return o;
}

/** Runs fn (option parsing); a bad option prints its one message and exits 2, without a stack. */
export function orUsageExit(fn, tag) {
  try {
    return fn();
  } catch (e) {
    console.error(`${tag}: ${e.message}`);
    process.exit(2);
  }
}

/** --only LIST as a Set; an unknown phase is an error rather than a phase silently skipped. */
export function phaseSet(value, known) {
  const s = new Set(String(value).split(',').filter(Boolean));
  for (const p of s) if (!known.includes(p)) throw new Error(`--only: unknown phase ${p} (known: ${known.join(', ')})`);
  return s;
}
