// Which `objgraph-doctest` binary the extension starts as its language server. Pure: the
// file system and the environment come in as arguments, so that the order is unit-tested
// (src/test/serverDiscovery.test.ts) without VS Code.
//
// The order, first found wins:
//   1. the `objgraphDoctest.serverPath` setting, when the user set it;
//   2. the binary bundled in a platform-specific package (bundled/libs/bin/, ruff-vscode's
//      layout);
//   3. the workspace's virtual environment (`.venv/bin/objgraph-doctest`), in a trusted
//      workspace only: in Restricted Mode a binary the workspace itself ships never runs;
//   4. `objgraph-doctest` looked up on `PATH` by the operating system.

import * as path from 'path';

/** The binary's file name on a platform (`process.platform`). */
export function binaryName(platform: string): string {
  return platform === 'win32' ? 'objgraph-doctest.exe' : 'objgraph-doctest';
}

/** Where a platform-specific package holds the binary, under the extension's root. */
export function bundledBinary(extensionRoot: string, platform: string): string {
  return path.join(extensionRoot, 'bundled', 'libs', 'bin', binaryName(platform));
}

/** Where a workspace folder's `.venv` holds the binary (`Scripts` on Windows). */
export function venvBinary(folder: string, platform: string): string {
  const bin = platform === 'win32' ? 'Scripts' : 'bin';
  return path.join(folder, '.venv', bin, binaryName(platform));
}

export interface DiscoveryInput {
  /** The `objgraphDoctest.serverPath` setting; empty or blank when not set. In Restricted
   * Mode VS Code passes only the user's own value (it is a restricted configuration). */
  serverPath: string;
  /** The extension's installation directory. */
  extensionRoot: string;
  /** The workspace folders on disk, in VS Code's order. */
  workspaceFolders: readonly string[];
  /** Whether the user trusts the workspace (false in Restricted Mode). */
  trusted: boolean;
  /** `process.platform`. */
  platform: string;
  /** Whether a path is an existing file (executable, where the platform says so). */
  isExecutable: (file: string) => boolean;
}

/** Which step of the order chose the server. */
export type ServerSource = 'setting' | 'bundled' | 'venv' | 'PATH';

export interface DiscoveredServer {
  /** A path, or the bare name for the operating system to look up on `PATH`. */
  command: string;
  source: ServerSource;
}

/** The server to start, by the order in this file's header. */
export function discoverServer(input: DiscoveryInput): DiscoveredServer {
  const configured = input.serverPath.trim();
  if (configured) {
    return { command: configured, source: 'setting' };
  }
  const bundled = bundledBinary(input.extensionRoot, input.platform);
  if (input.isExecutable(bundled)) {
    return { command: bundled, source: 'bundled' };
  }
  if (input.trusted) {
    for (const folder of input.workspaceFolders) {
      const venv = venvBinary(folder, input.platform);
      if (input.isExecutable(venv)) {
        return { command: venv, source: 'venv' };
      }
    }
  }
  return { command: binaryName(input.platform), source: 'PATH' };
}
