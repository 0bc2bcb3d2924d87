// Import rules of lib/, checked by `npm run check:cycles` (dependency-cruiser): no import cycle,
// type-only imports included (a part that imports the options type of the factory that wires it is
// how a circle starts; give the part a narrow type of its own). See docs/development.md.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle in lib/: give the part a narrow type of its own instead of importing its owner.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Count `import type` too: a cycle of types is still a cycle of files.
    tsPreCompilationDeps: true,
  },
};
