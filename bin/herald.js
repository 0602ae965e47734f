#!/usr/bin/env -S node --max-semi-space-size=8 --v8-pool-size=0
// The first flag caps V8's young generation, which on a machine with plenty of memory otherwise
// grows to tens of megabytes per semi-space: measured, it keeps a busy Herald ~100 MB smaller for
// a few percent of throughput. The second sizes V8's background threads (garbage collection,
// compilation) to the machine, one fewer than its cores, instead of Node's fixed four: on two
// cores the four took the CPU from the main thread often enough to double the tail of the
// acknowledgements (docs/performance.md). Anything that starts Herald reads them from this line.
// Herald runs its TypeScript sources directly, which needs Node.js 24's type stripping.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `Herald needs Node.js 24 or newer; this is ${process.version}.\n` +
      'Run it through npm (npm start, npx herald), which uses the Node.js 24 this repository installs.',
  );
  process.exit(1);
}
// Stripping the types of every module again costs each command most of its start (half a second
// of CPU for `herald version`); Node's compile cache (in the OS's temporary directory, keyed by
// each file's contents) makes a second start three times cheaper.
(await import('node:module')).enableCompileCache?.();
await import('../src/cli/main.ts');
