// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with declarations and a
// package.json that tells Node (and TypeScript) which module format the folder holds.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');

rmSync('dist', { recursive: true, force: true });
const builds = [
  { dir: 'dist/esm', type: 'module', args: ['--module', 'ESNext', '--moduleResolution', 'Bundler'] },
  {
    dir: 'dist/cjs',
    type: 'commonjs',
    args: ['--module', 'CommonJS', '--moduleResolution', 'Node10', '--verbatimModuleSyntax', 'false'],
  },
];
for (const b of builds) {
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', b.dir, ...b.args], {
    stdio: 'inherit',
  });
  mkdirSync(b.dir, { recursive: true });
  writeFileSync(`${b.dir}/package.json`, JSON.stringify({ type: b.type }) + '\n');
}
