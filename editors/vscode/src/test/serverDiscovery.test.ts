// Unit tests of the server discovery order (src/serverDiscovery.ts), run by node's own test
// runner (`npm test`, from scripts/build-editors) with a made-up file system.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import * as path from 'path';

import { bundledBinary, DiscoveryInput, discoverServer, venvBinary } from '../serverDiscovery';

const ROOT = path.join(path.sep, 'ext');
const WORKSPACE = path.join(path.sep, 'project');
const OTHER = path.join(path.sep, 'other');

/** A discovery over a file system holding exactly `files`. */
function input(files: string[], overrides: Partial<DiscoveryInput> = {}): DiscoveryInput {
  const present = new Set(files);
  return {
    serverPath: '',
    extensionRoot: ROOT,
    workspaceFolders: [WORKSPACE],
    trusted: true,
    platform: 'linux',
    isExecutable: (file) => present.has(file),
    ...overrides,
  };
}

const bundled = bundledBinary(ROOT, 'linux');
const venv = venvBinary(WORKSPACE, 'linux');

test('the bundled binary sits in ruff-vscode\'s layout', () => {
  assert.equal(bundled, path.join(ROOT, 'bundled', 'libs', 'bin', 'objgraph-doctest'));
  assert.equal(
    bundledBinary(ROOT, 'win32'),
    path.join(ROOT, 'bundled', 'libs', 'bin', 'objgraph-doctest.exe'),
  );
  assert.equal(venv, path.join(WORKSPACE, '.venv', 'bin', 'objgraph-doctest'));
  assert.equal(
    venvBinary(WORKSPACE, 'win32'),
    path.join(WORKSPACE, '.venv', 'Scripts', 'objgraph-doctest.exe'),
  );
});

test('a serverPath the user set comes first, even over a bundled binary', () => {
  assert.deepEqual(discoverServer(input([bundled, venv], { serverPath: ' /opt/ogd ' })), {
    command: '/opt/ogd',
    source: 'setting',
  });
});

test('a blank serverPath counts as not set', () => {
  assert.equal(discoverServer(input([bundled], { serverPath: '  ' })).source, 'bundled');
});

test('the bundled binary comes before the workspace venv', () => {
  assert.deepEqual(discoverServer(input([bundled, venv])), { command: bundled, source: 'bundled' });
});

test('without a bundled binary, the workspace venv', () => {
  assert.deepEqual(discoverServer(input([venv])), { command: venv, source: 'venv' });
});

test('the first workspace folder with a venv binary wins', () => {
  const otherVenv = venvBinary(OTHER, 'linux');
  const found = discoverServer(input([otherVenv], { workspaceFolders: [WORKSPACE, OTHER] }));
  assert.deepEqual(found, { command: otherVenv, source: 'venv' });
});

test('in Restricted Mode the workspace venv is never used', () => {
  assert.deepEqual(discoverServer(input([venv], { trusted: false })), {
    command: 'objgraph-doctest',
    source: 'PATH',
  });
  assert.equal(discoverServer(input([bundled, venv], { trusted: false })).source, 'bundled');
});

test('nothing found: the bare name, for the system to look up on PATH', () => {
  assert.deepEqual(discoverServer(input([])), { command: 'objgraph-doctest', source: 'PATH' });
  assert.equal(discoverServer(input([], { platform: 'win32' })).command, 'objgraph-doctest.exe');
});
