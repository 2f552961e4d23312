// Checks TypeDoc's JSON (docs/api.json, written by `typedoc`): every export of 'rx-sagemaker'
// and 'rx-sagemaker/testing' has a summary and an @example.
import { readFileSync } from 'node:fs';

const api = JSON.parse(readFileSync('docs/api.json', 'utf8'));
const modules = api.children?.some((c) => c.kind === 2) ? api.children.filter((c) => c.kind === 2) : [api];
const problems = [];
let checked = 0;
for (const mod of modules) {
  for (const item of mod.children ?? []) {
    const comment = item.comment ?? item.signatures?.find((s) => s.comment)?.comment;
    const summary = (comment?.summary ?? [])
      .map((p) => p.text)
      .join('')
      .trim();
    const example = (comment?.blockTags ?? []).some((t) => t.tag === '@example');
    checked++;
    if (summary === '') problems.push(`${mod.name}: ${item.name} has no summary`);
    if (!example) problems.push(`${mod.name}: ${item.name} has no @example`);
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  console.error(`${problems.length} problems in ${checked} exports`);
  process.exit(1);
}
console.log(`docs: all ${checked} exports have a summary and an @example`);
