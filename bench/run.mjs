// `npm run bench`: runs every benchmark, each in its own Node process, against the built library,
// prints the machine and the figures, and writes them to BENCHMARKS.md (between the markers,
// keeping the rest of the file).
//
//   node bench/run.mjs                  the full run (a few minutes on 2 cores)
//   node bench/run.mjs --smoke          tiny sizes, no targets checked, nothing written (CI)
//   BENCH_SMOKE=1 node bench/run.mjs    the same
//   node bench/run.mjs --only pipeline,abort   some benchmarks only (nothing written)
//   node bench/run.mjs --out FILE       write the results to FILE instead of BENCHMARKS.md
//   BENCH_LIB=<dir> node bench/run.mjs  benchmark another ES-module build (see bench/lib/lib.mjs)
//
// Exit code: 1 if a benchmark failed or its contenders disagreed on the tokens; missed targets
// are reported, not fatal (timing assertions do not belong in a gate on a shared machine).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { args } from './lib/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const a = args();
const smoke = a.smoke === true || process.env.BENCH_SMOKE === '1';
const only = typeof a.only === 'string' ? new Set(a.only.split(',')) : undefined;
const started = new Date();

const require = createRequire(join(root, 'package.json'));
const versionOf = (name) => {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
  } catch {
    try {
      // packages whose exports hide package.json
      let dir = dirname(require.resolve(name));
      while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
    } catch {
      return 'unknown';
    }
  }
};
const cpus = os.cpus();
const machine = {
  date: started.toISOString(),
  cpu: `${cpus[0]?.model ?? 'unknown'} (${cpus.length} logical CPUs${cpus[0]?.speed ? `, ${cpus[0].speed} MHz` : ''})`,
  memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  node: process.version,
  v8: process.versions.v8,
  packages: {
    'rx-sagemaker': JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
    rxjs: versionOf('rxjs'),
    '@aws-sdk/client-sagemaker-runtime': versionOf('@aws-sdk/client-sagemaker-runtime'),
    'eventsource-parser': versionOf('eventsource-parser'),
  },
  library: process.env.BENCH_LIB ? `BENCH_LIB=${process.env.BENCH_LIB}` : 'dist/ (npm run build)',
  loadBefore: os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' '),
};

console.log(`rx-sagemaker benchmarks${smoke ? ' (smoke: tiny sizes, no targets)' : ''}`);
for (const [k, v] of Object.entries(machine)) console.log(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);

/** Runs one benchmark script in its own process; resolves with the JSON it prints last. */
function bench(script, scriptArgs = []) {
  const argv = ['--expose-gc', join(here, script), ...scriptArgs];
  console.log(`\n> node ${argv.map((x) => x.replace(`${root}/`, '')).join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, BENCH_SMOKE: smoke ? '1' : '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      let result;
      try {
        result = JSON.parse(last);
      } catch {
        result = undefined;
      }
      if (code !== 0 || result === undefined) {
        console.log(`  FAILED (exit code ${code})`);
        failures.push(`${script} ${scriptArgs.join(' ')}`);
      }
      resolve(result);
    });
  });
}

const failures = [];
const results = {};
const want = (name) => only === undefined || only.has(name);

if (want('pipeline')) {
  results.pipeline = [];
  for (const format of ['tgi-sse', 'openai-chat-sse', 'lmi-jsonlines']) {
    const r = await bench('pipeline.mjs', ['--format', format]);
    if (r) {
      if (!r.agree) failures.push(`pipeline ${format}: the contenders disagree`);
      results.pipeline.push(r);
    }
  }
}
if (want('e2e')) {
  const r = await bench('e2e.mjs');
  if (r) {
    if (!r.single.agree || !r.concurrent.agree || !r.cold.agree) failures.push('e2e: the contenders disagree');
    results.e2e = r;
  }
}
if (want('linearity')) results.linearity = await bench('linearity.mjs');
if (want('memory')) {
  const ours = await bench('memory.mjs', ['--contender', 'ours']);
  const bare = await bench('memory.mjs', ['--contender', 'bare']);
  if (ours && bare && ours.tokens !== bare.tokens) failures.push('memory: the contenders disagree');
  if (ours && bare) results.memory = { ours, bare };
}
if (want('abort')) results.abort = await bench('abort.mjs');
if (want('inlining')) results.inlining = await bench('inlining.mjs'); // structural: fails if a parser loop becomes inlinable
if (want('warm')) results.warm = await bench('warm.mjs'); // structural: fails if the parser's code dies with its streams
machine.loadAfter = os
  .loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
machine.seconds = ((Date.now() - started.getTime()) / 1000).toFixed(0);

// ---------------------------------------------------------------------------------------------
// Report

const x = (v, d = 3) => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
const q = (s, d = 3) => (s ? `${x(s.median, d)} (${x(s.p25, d)}–${x(s.p75, d)})` : 'n/a');
const targets = [];
const target = (name, ok, figure) => targets.push({ name, ok: smoke ? undefined : ok, figure });
const lines = [];
const md = (s = '') => lines.push(s);

md(
  `Command: \`${smoke ? 'npm run bench -- --smoke' : 'npm run bench'}\` (\`npm run build --silent && node bench/run.mjs${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\`)`,
);
md();
md(
  `Machine: ${machine.cpu}, ${machine.memory}, ${machine.os}; Node ${machine.node} (V8 ${machine.v8}); ` +
    `rxjs ${machine.packages.rxjs}, @aws-sdk/client-sagemaker-runtime ${machine.packages['@aws-sdk/client-sagemaker-runtime']}, ` +
    `eventsource-parser ${machine.packages['eventsource-parser']}. Run ${machine.date}, ${machine.seconds} s; ` +
    `load average ${machine.loadBefore} before, ${machine.loadAfter} after (a shared machine: other work ran alongside). Library: ${machine.library}.`,
);
md();
md(
  'Every figure is CPU time (user + system, `process.cpuUsage()`), as a ratio against a baseline measured in the same ' +
    'process: the contenders alternate in blocks, each twice per block in a random order (with a full GC before each run, except ' +
    "in the pipeline's few-millisecond blocks and the first two end-to-end cases, where the random order spreads collection evenly); a " +
    'ratio is the median of the per-block ratios, with the interquartile range in brackets. A/A is the second run of a ' +
    'contender divided by its first in the same block: the noise floor.',
);

if (results.pipeline) {
  md();
  md('### 1. Operator pipeline, in memory');
  md();
  const p0 = results.pipeline[0];
  md(
    `${p0.tokensPerInstance.toLocaleString('en')} tokens per contender instance (${p0.blocks} blocks of ${p0.tokensPerBlock.toLocaleString('en')} tokens, ` +
      'one long stream per instance, two instances per contender), cut into parts of 1–4 events; about 1 part in 5 ends inside a line, ' +
      'some inside a multi-byte character. The bare loop (the floor): streaming `TextDecoder`, `indexOf` line split, `JSON.parse`, field access.',
  );
  md();
  md(
    '| format | MiB / parts per block (mid-line, mid-code-point) | bare loop, ms per block | `tokens()` / bare | eventsource-parser / bare | `tokens()` / eventsource-parser | A/A bare · ours · e-p |',
  );
  md('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results.pipeline) {
    const c = r.contenders;
    const es = c['eventsource-parser'];
    md(
      `| ${r.format} | ${x(r.bytesPerBlock / 1048576, 2)} / ${r.partsPerBlock.toLocaleString('en')} (${r.midLine}, ${r.midCodePoint}) | ${x(c.bare.cpuMs.median, 1)} | ` +
        `**${q(c.ours.ratio)}** | ${es ? q(es.ratio) : '—'} | ${r.vsEventsourceParser ? `**${q(r.vsEventsourceParser)}**` : '—'} | ` +
        `${x(c.bare.aa.median)} · ${x(c.ours.aa.median)}${es ? ` · ${x(es.aa.median)}` : ''} |`,
    );
    target(`pipeline ${r.format}: tokens() ≤ 1.10 × bare`, c.ours.ratio.median <= 1.1, x(c.ours.ratio.median));
    if (r.vsEventsourceParser)
      target(
        `pipeline ${r.format}: tokens() faster than eventsource-parser`,
        r.vsEventsourceParser.median < 1,
        x(r.vsEventsourceParser.median),
      );
  }
}
if (results.e2e) {
  const e = results.e2e;
  md();
  md('### 2. End to end: the real SDK client against the emulator on loopback');
  md();
  md(
    'The emulator runs in a child process (its CPU is not counted); the client process is measured. Raw: `for await` over ' +
      "`Body` with the bare loop's decoding. Ours: `invoke$(...).pipe(tokens())`. TGI SSE, parts of 1–4 events. " +
      'The first two cases force no collection between runs (the steady state of a busy client: the target). The third forces ' +
      'a full one before every run, while no stream is alive: V8 then drops the hidden classes of the per-stream objects ' +
      "(the SDK's and ours) and the optimised code built on them, and both contenders run on fresh code while it is compiled again: " +
      'the first request after a quiet spell (round 3 below).',
  );
  md();
  md('| case | parts per contender | raw, ms per block | ours / raw | A/A raw · ours |');
  md('| --- | --- | --- | --- | --- |');
  for (const k of ['single', 'concurrent', 'cold']) {
    const r = e[k];
    if (r === undefined) continue;
    const c = r.contenders;
    md(
      `| ${r.label} (${r.concurrency} × ${r.tokensPerStream.toLocaleString('en')} tokens per block) | ${r.partsPerContender.toLocaleString('en')} | ${x(c.raw.cpuMs.median, 0)} | **${q(c.ours.ratio)}** | ${x(c.raw.aa.median)} · ${x(c.ours.aa.median)} |`,
    );
    if (!r.collect) target(`e2e ${r.label}: ≤ 1.03 × raw`, c.ours.ratio.median <= 1.03, x(c.ours.ratio.median));
  }
}
if (results.linearity) {
  const l = results.linearity;
  md();
  md('### 3. Linearity of `splitLines()`');
  md();
  md(
    `One ${l.smallMiB} MiB line (run ${l.repeat} times per block) against one ${l.largeMiB} MiB line, both in ${l.chunk}-character chunks.`,
  );
  md();
  md('| line | ms per MiB | per MiB, large / small | A/A small · large |');
  md('| --- | --- | --- | --- |');
  md(`| ${l.smallMiB} MiB | ${x(l.msPerMiB.small, 2)} | (baseline) | ${x(l.contenders.small.aa.median)} |`);
  md(`| ${l.largeMiB} MiB | ${x(l.msPerMiB.large, 2)} | **${q(l.contenders.large.ratio)}** | ${x(l.contenders.large.aa.median)} |`);
  target(
    `linearity: the ${l.largeMiB} MiB line ≤ 1.3 × per MiB`,
    l.contenders.large.ratio.median <= 1.3,
    x(l.contenders.large.ratio.median),
  );
}
if (results.memory) {
  const { ours, bare } = results.memory;
  md();
  md('### 4. Memory');
  md();
  md(
    `${x(ours.bytes / 2 ** 30, 2)} GiB of TGI SSE (${ours.parts.toLocaleString('en')} parts, ${ours.tokens.toLocaleString('en')} tokens) generated on the fly, ` +
      'each part a fresh buffer; peak RSS over the RSS before the stream, one process per contender.',
  );
  md();
  md('| contender | peak RSS growth | peak heap growth | MiB per CPU second |');
  md('| --- | --- | --- | --- |');
  md(`| \`tokens()\` | **${x(ours.peakRssGrowthMiB, 1)} MiB** | ${x(ours.peakHeapGrowthMiB, 1)} MiB | ${x(ours.mibPerCpuSecond, 0)} |`);
  md(`| bare loop | ${x(bare.peakRssGrowthMiB, 1)} MiB | ${x(bare.peakHeapGrowthMiB, 1)} MiB | ${x(bare.mibPerCpuSecond, 0)} |`);
  target('memory: peak RSS growth ≤ 32 MiB', ours.peakRssGrowthMiB <= 32, `${x(ours.peakRssGrowthMiB, 1)} MiB`);
}
if (results.abort) {
  const r = results.abort;
  md();
  md('### 5. Abort latency');
  md();
  md(
    `From \`unsubscribe()\` (ours) or \`abort()\` on the signal passed to \`send()\` (raw SDK, the baseline) to the emulator seeing the ` +
      `socket close, after ${r.afterParts} parts; ${r.trials} trials each, alternating.`,
  );
  md();
  md('| stream | ours median / p95 | raw abort() median / p95 | ours / raw (medians) |');
  md('| --- | --- | --- | --- |');
  for (const k of ['flowing', 'stalled']) {
    const s = r[k];
    md(
      `| ${k === 'flowing' ? 'flowing (a part every 2 ms)' : 'stalled'} | **${x(s.ours.median, 2)} / ${x(s.ours.p95, 2)} ms** | ${x(s.raw.median, 2)} / ${x(s.raw.p95, 2)} ms | ${x(s.medianRatio, 2)} |`,
    );
  }
  md();
  md(
    `For comparison, leaving a raw \`for await\` with \`break\`: socket closed within 1 s: ${r.breakOnly.closedWithin1s ? 'yes' : '**no**'}; ` +
      `the endpoint went on to send ${r.breakOnly.partsSentAfterBreak} more parts.`,
  );
}
if (results.inlining) {
  const r = results.inlining;
  md();
  md(
    `Structure (not a timing): the token parser's per-chunk loops have ${Object.entries(r.sizes)
      .map(([k, v]) => `\`${k}\` ${v ?? '?'}`)
      .join(' and ')} bytes of bytecode, over the ${r.limit} that V8 inlines, so each is optimised on its own ` +
      `(\`bench/inlining.mjs\`; round 2, fix 7 below): ${r.ok ? 'yes' : '**no**'}.`,
  );
}
if (results.warm) {
  const r = results.warm;
  md();
  md(
    `Structure (not a timing): after a full collection with no stream alive, V8 threw away optimised parser code ${r.total} time(s) in ` +
      `${r.rounds} rounds of ${r.streams} streams, at most ${r.limit} allowed (\`bench/warm.mjs\`; round 3 below; without the idle ` +
      `warm stream: 32–40): ${r.ok ? 'yes' : '**no**'}.`,
  );
}
md();
md('### Targets');
md();
md('| target | figure | met |');
md('| --- | --- | --- |');
for (const t of targets) md(`| ${t.name} | ${t.figure} | ${t.ok === undefined ? '(smoke: not checked)' : t.ok ? 'yes' : '**no**'} |`);

const report = lines.join('\n');
console.log(`\n${report}\n`);
if (failures.length > 0) console.log(`FAILED: ${failures.join('; ')}`);

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';
const outFile = typeof a.out === 'string' ? a.out : smoke || only ? undefined : join(root, 'BENCHMARKS.md');
if (outFile !== undefined) {
  const block = `${START}\n${report}\n${END}`;
  let text = existsSync(outFile) ? readFileSync(outFile, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`;
  const i = text.indexOf(START);
  const j = text.indexOf(END);
  text = i !== -1 && j !== -1 ? text.slice(0, i) + block + text.slice(j + END.length) : `${text}\n${block}\n`;
  writeFileSync(outFile, text);
  console.log(`written: ${outFile}`);
}
process.exitCode = failures.length > 0 ? 1 : 0;
