// Starts objgraph-doctest's language server (`objgraph-doctest lsp`, over stdio) for .txt,
// .rst and .md pages. The server owns everything a user sees (diagnostics, hovers, quick
// fixes, code lenses and their commands); this file only starts it with the right settings.
//
// Which binary runs: src/serverDiscovery.ts (the `serverPath` setting, the bundled binary,
// the workspace's `.venv`, then `PATH`).
//
// Workspace trust: in an untrusted workspace (Restricted Mode) the server starts with
// `execute: false`, so it only parses pages; the server keeps `execute` off for its whole
// life once its initializationOptions turned it off, whatever `workspace/configuration`
// answers later. VS Code ignores the workspace's `serverPath` and `python` (both are
// restricted configurations in package.json), and the workspace's `.venv` binary is not
// used. Granting trust restarts the server with the settings.

import * as fs from 'fs';
import * as vscode from 'vscode';
import {
  ConfigurationRequest,
  DocumentSelector,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from 'vscode-languageclient/node';

import { DiscoveredServer, discoverServer } from './serverDiscovery';

const SECTION = 'objgraphDoctest';

// Exactly the pages objgraph-doctest reads, on disk. Without a reStructuredText extension,
// VS Code opens .rst files as plain text: the last filter catches those.
const DOCUMENT_SELECTOR: DocumentSelector = [
  { scheme: 'file', language: 'plaintext', pattern: '**/*.txt' },
  { scheme: 'file', language: 'restructuredtext', pattern: '**/*.rst' },
  { scheme: 'file', language: 'markdown', pattern: '**/*.md' },
  { scheme: 'file', language: 'plaintext', pattern: '**/*.rst' },
];

/** The settings the server reads, as `initializationOptions` and `workspace/configuration`. */
interface ServerSettings {
  runOn: string;
  execute: boolean;
  python?: string;
  debounceMs: number;
}

function serverSettings(): ServerSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const python = config.get<string>('python', '').trim();
  return {
    runOn: config.get<string>('runOn', 'change'),
    // Nothing runs in a workspace the user has not trusted, whatever the settings say.
    execute: vscode.workspace.isTrusted && config.get<boolean>('execute', true),
    ...(python ? { python } : {}),
    debounceMs: config.get<number>('debounceMs', 300),
  };
}

/** Answers the server's `workspace/configuration` requests with `serverSettings()`, so
 * that a server asking again still sees `execute: false` in an untrusted workspace. */
const configuration: ConfigurationRequest.MiddlewareSignature = async (params, token, next) => {
  const answers = await next(params, token);
  if (!Array.isArray(answers)) {
    return answers;
  }
  return answers.map((answer, index) => {
    const section = params.items[index]?.section;
    if (section === SECTION) {
      return serverSettings();
    }
    if (!section && answer !== null && typeof answer === 'object') {
      return { ...answer, [SECTION]: serverSettings() };
    }
    return answer;
  });
};

/** Whether `file` is a file this process may execute. */
function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function findServer(extensionRoot: string): DiscoveredServer {
  return discoverServer({
    serverPath: vscode.workspace.getConfiguration(SECTION).get<string>('serverPath', ''),
    extensionRoot,
    workspaceFolders: (vscode.workspace.workspaceFolders ?? [])
      .filter((folder) => folder.uri.scheme === 'file')
      .map((folder) => folder.uri.fsPath),
    trusted: vscode.workspace.isTrusted,
    platform: process.platform,
    isExecutable,
  });
}

function createClient(command: string, outputChannel: vscode.OutputChannel): LanguageClient {
  // No `transport` here: for an executable, vscode-languageclient's TransportKind.stdio
  // appends a `--stdio` argument, and the server is started as `objgraph-doctest lsp`.
  // Without a transport the client talks to the process over stdin/stdout all the same.
  const executable = { command, args: ['lsp'] };
  const serverOptions: ServerOptions = { run: executable, debug: executable };
  const clientOptions: LanguageClientOptions = {
    documentSelector: DOCUMENT_SELECTOR,
    initializationOptions: serverSettings,
    outputChannel,
    middleware: {
      workspace: { configuration },
    },
  };
  return new LanguageClient(SECTION, 'objgraph-doctest', serverOptions, clientOptions);
}

let client: LanguageClient | undefined;
// Starts and stops run one after another, never interleaved.
let lifecycle: Promise<void> = Promise.resolve();

function restart(extensionRoot: string, outputChannel: vscode.OutputChannel): Promise<void> {
  lifecycle = lifecycle.then(async () => {
    await stopClient();
    const { command, source } = findServer(extensionRoot);
    outputChannel.appendLine(
      `Starting \`${command} lsp\` (found by: ${source}; ` +
        `${vscode.workspace.isTrusted ? 'trusted workspace' : 'Restricted Mode, nothing is executed'})`,
    );
    client = createClient(command, outputChannel);
    try {
      await client.start();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      void vscode.window.showErrorMessage(
        `objgraph-doctest: could not start \`${command} lsp\`: ${message}. ` +
          'Install objgraph-doctest (pip install objgraph-doctest) or set ' +
          'objgraphDoctest.serverPath to the objgraph-doctest binary.',
      );
    }
  });
  return lifecycle;
}

async function stopClient(): Promise<void> {
  const running = client;
  client = undefined;
  try {
    await running?.dispose();
  } catch {
    // It had not started, or had already stopped: nothing is left to stop.
  }
}

export function activate(context: vscode.ExtensionContext): Promise<void> {
  const outputChannel = vscode.window.createOutputChannel('objgraph-doctest');
  const restartServer = () => restart(context.extensionPath, outputChannel);
  context.subscriptions.push(
    outputChannel,
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(SECTION)) {
        void restartServer();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void restartServer()),
    // A folder added with a `.venv` may hold the binary.
    vscode.workspace.onDidChangeWorkspaceFolders(() => void restartServer()),
    // Not one of the server's command ids (objgraph-doctest.runPage, .runFrom): the client
    // registers those itself from the server's executeCommandProvider.
    vscode.commands.registerCommand('objgraph-doctest.restartServer', restartServer),
  );
  return restartServer();
}

export function deactivate(): Promise<void> {
  lifecycle = lifecycle.then(stopClient);
  return lifecycle;
}
