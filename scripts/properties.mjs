// Runs the property-based tests (test/reliability/properties.test.ts) with many runs per format.
//
//   node scripts/properties.mjs                 5,000 runs per format
//   node scripts/properties.mjs --runs 20000
//   node scripts/properties.mjs --seed 1234 --path "3:1:0"   replay a failure jest reported
//
// A failure prints fast-check's `{ seed, path }` and the shrunk counterexample; the exit code is
// jest's.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5000' },
    seed: { type: 'string' },
    path: { type: 'string' },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`properties: --runs must be a positive integer, got ${values.runs}`);
  process.exit(2);
}

const env = { ...process.env, PROPERTY_RUNS: String(runs) };
if (values.seed !== undefined) env.PROPERTY_SEED = values.seed;
if (values.path !== undefined) env.PROPERTY_PATH = values.path;

const jest = createRequire(import.meta.url).resolve('jest/bin/jest');
console.log(
  `properties: ${runs} runs per format${values.seed === undefined ? '' : `, seed ${values.seed}`}${values.path === undefined ? '' : `, path ${values.path}`}`,
);
const started = performance.now();
const result = spawnSync(process.execPath, [jest, '--runTestsByPath', 'test/reliability/properties.test.ts', '--verbose'], {
  env,
  stdio: 'inherit',
});
console.log(`properties: ${result.status === 0 ? 'passed' : 'FAILED'} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exit(result.status ?? 1);
