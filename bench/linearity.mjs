// Benchmark 3: linearity of splitLines(). One 1 MiB line and one 64 MiB line, each delivered in
// 4 KiB string chunks; the cost per MiB of the large one against the small one (run 64 times so
// that both contenders handle the same 64 MiB per run).
// Usage: node --expose-gc bench/linearity.mjs [--blocks 5]
import { from } from 'rxjs';
import { SMOKE, args, done, interleave, log } from './lib/harness.mjs';
import { lib } from './lib/lib.mjs';

const { splitLines } = lib;
const a = args();
const CHUNK = 4096;
const smallMiB = SMOKE ? 0.25 : 1;
const largeMiB = SMOKE ? 4 : 64;
const blocks = Number(a.blocks ?? (SMOKE ? 2 : 5));

// A few distinct 4 KiB chunks, cycled: every chunk is its own string, none holds a line break.
const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 {}":,';
const pool = Array.from({ length: 16 }, (_, k) => {
  let s = '';
  while (s.length < CHUNK) s += alphabet[(s.length * 7 + k) % alphabet.length];
  return s.slice(0, CHUNK);
});
function chunksOf(mib) {
  const n = Math.round((mib * 1048576) / CHUNK);
  const out = new Array(n + 1);
  for (let i = 0; i < n; i++) out[i] = pool[i % pool.length];
  out[n] = '\n';
  return out;
}
const small = chunksOf(smallMiB);
const large = chunksOf(largeMiB);
const repeat = Math.round(largeMiB / smallMiB);
const maxLineLength = largeMiB * 1048576 + 1;
let lineLength = 0;
const run = (chunks) => {
  from(chunks)
    .pipe(splitLines({ maxLineLength }))
    .subscribe((line) => {
      lineLength = line.length;
    });
};
log(`linearity: ${repeat} × a ${smallMiB} MiB line against 1 × a ${largeMiB} MiB line, ${CHUNK}-character chunks, ${blocks} blocks`);
const result = await interleave(
  {
    small: () => {
      for (let i = 0; i < repeat; i++) run(small);
    },
    large: () => run(large),
  },
  { blocks, warmup: 1, baseline: 'small', seed: 9 },
);
const summary = { ...result };
delete summary.runs;
const perMiB = (ms) => ms / largeMiB;
done({
  bench: 'linearity',
  chunk: CHUNK,
  smallMiB,
  largeMiB,
  repeat,
  lineLength,
  msPerMiB: { small: perMiB(summary.contenders.small.cpuMs.median), large: perMiB(summary.contenders.large.cpuMs.median) },
  ...summary,
});
