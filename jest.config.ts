import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
  },
  // Sources import siblings as `./x.js` (what Node ESM needs once built); map them back to `.ts`.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The examples import the package by name; in tests that is the source.
    '^rx-sagemaker$': '<rootDir>/src/index.ts',
    '^rx-sagemaker/testing$': '<rootDir>/src/testing/index.ts',
  },
  testTimeout: 20_000,
};

export default config;
