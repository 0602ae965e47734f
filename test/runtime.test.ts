import assert from 'node:assert/strict';
import { it } from 'node:test';

it('runs on the Node.js 24 the repository installs, not the system Node', () => {
  assert.ok(Number(process.versions.node.split('.')[0]) >= 24, `running on ${process.version}`);
});
