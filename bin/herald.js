#!/usr/bin/env node
// Herald runs its TypeScript sources directly, which needs Node.js 24's type stripping.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `Herald needs Node.js 24 or newer; this is ${process.version}.\n` +
      'Run it through npm (npm start, npx herald), which uses the Node.js 24 this repository installs.',
  );
  process.exit(1);
}
await import('../src/cli/main.ts');
