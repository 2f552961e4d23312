// The library under test: the built package ('rx-sagemaker', 'rx-sagemaker/testing'), or with
// BENCH_LIB=<folder> another ES-module build of it (e.g. a build of an older commit, for
// before/after figures). The folder must sit inside this repository so that it finds rxjs.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.BENCH_LIB;
const load = (file, name) => (dir ? import(pathToFileURL(resolve(dir, file)).href) : import(name));

export const lib = await load('index.js', 'rx-sagemaker');
export const testing = await load('testing/index.js', 'rx-sagemaker/testing');
export const libLabel = dir ? `BENCH_LIB=${dir}` : 'rx-sagemaker (dist)';
