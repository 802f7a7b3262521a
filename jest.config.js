/** jest: @swc/jest transpiles TypeScript (type checking is `tsc --noEmit`, run first by `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2021' }, module: { type: 'commonjs' } }] },
  // arquero and its @uwdata dependencies, and cookie (fastify's inject), are ESM-only: let swc turn them into CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!(arquero|@uwdata|cookie)/)'],
  setupFiles: ['<rootDir>/test/setup.ts'],
  testTimeout: 120000,
};
