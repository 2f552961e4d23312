// Measurement helpers shared by the benchmarks: CPU time, interleaved blocks, medians.
//
// Method (issue 7): on a shared, noisy machine compare CPU time (process.cpuUsage(), user +
// system, all threads of the process, so GC helper threads are charged to whoever allocates),
// not wall time; alternate the contenders in small blocks inside one process, in a fresh random
// order per block; take the median of the per-block ratios; and run every contender twice per
// block so that the A/A ratio (a contender against itself) shows the noise floor.

/** CPU time used by this process so far, in microseconds (user + system). */
export function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** A small deterministic PRNG (mulberry32), so every run sees the same data and orders. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
export const median = (values) => quantile(values, 0.5);

/** `{ median, p25, p75, n }` of a list of numbers. */
export function summary(values) {
  return { median: median(values), p25: quantile(values, 0.25), p75: quantile(values, 0.75), n: values.length };
}

const gc = typeof globalThis.gc === 'function' ? globalThis.gc : () => {};

/**
 * Runs `fn` once and returns its CPU and wall time in ms. A full GC first (when node runs with
 * --expose-gc) so that one contender's garbage is not collected on the next one's time.
 * `fn` may be async.
 */
export async function timeOnce(fn, { collect = true } = {}) {
  if (collect) gc();
  const c0 = cpuMicros();
  const w0 = performance.now();
  const out = fn();
  if (out && typeof out.then === 'function') await out;
  return { cpu: (cpuMicros() - c0) / 1000, wall: performance.now() - w0 };
}

function shuffle(list, random) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

/**
 * Interleaved comparison.
 *
 * @param contenders `{ name: () => void | Promise<void> }`; each call processes one block's work.
 * @param options.blocks how many blocks; every contender runs twice per block, in a random order.
 * @param options.warmup untimed runs of each contender first (JIT, caches, sockets).
 * @param options.baseline the name every other contender is divided by.
 * @param options.collect a full GC before every run (default); off for very short runs, where the
 *   random order spreads the cost of one run's garbage evenly over the contenders.
 * @returns per contender the CPU/wall times of both runs per block; `ratios` (median of per-block
 *   ratios of the two-run sums against the baseline) and `aa` (second run / first run).
 */
export async function interleave(contenders, { blocks, warmup = 1, baseline, seed = 1, onBlock, collect = true } = {}) {
  const names = Object.keys(contenders);
  const random = rng(seed);
  for (let w = 0; w < warmup; w++) for (const n of names) await timeOnce(contenders[n]);
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  for (let b = 0; b < blocks; b++) {
    const order = shuffle([...names, ...names], random);
    const seen = Object.fromEntries(names.map((n) => [n, []]));
    for (const n of order) seen[n].push(await timeOnce(contenders[n], { collect }));
    for (const n of names) runs[n].push(seen[n]);
    onBlock?.(b);
  }
  return { ...analyse(runs, baseline), runs };
}

/** Turns `{ name: [[run1, run2] per block] }` into the ratios and A/A figures. */
export function analyse(runs, baseline) {
  const names = Object.keys(runs);
  const sum = (pair, key) => pair[0][key] + pair[1][key];
  const result = { contenders: {}, baseline };
  for (const n of names) {
    const blocks = runs[n];
    const cpuPerRun = blocks.flatMap((p) => [p[0].cpu, p[1].cpu]);
    const wallPerRun = blocks.flatMap((p) => [p[0].wall, p[1].wall]);
    const entry = {
      cpuMs: summary(cpuPerRun),
      wallMs: summary(wallPerRun),
      aa: summary(blocks.map((p) => p[1].cpu / p[0].cpu)),
    };
    if (baseline !== undefined && n !== baseline) {
      entry.ratio = summary(blocks.map((p, i) => sum(p, 'cpu') / sum(runs[baseline][i], 'cpu')));
      entry.wallRatio = summary(blocks.map((p, i) => sum(p, 'wall') / sum(runs[baseline][i], 'wall')));
    }
    result.contenders[n] = entry;
  }
  return result;
}

/** Parses `--name value` and `--flag` arguments. */
export function args(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      out[key] = next;
      i++;
    } else out[key] = true;
  }
  return out;
}

/** Smoke mode: tiny sizes, no targets checked. */
export const SMOKE = process.env.BENCH_SMOKE === '1' || process.argv.includes('--smoke');

/** Prints progress on stderr (stdout carries the JSON result). */
export function log(...parts) {
  process.stderr.write(parts.join(' ') + '\n');
}

/** Writes the result for the runner: JSON on stdout, last line. */
export function done(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
}
