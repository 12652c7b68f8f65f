// Starts objgraph-doctest's language server (`objgraph-doctest lsp`, over stdio) for .txt,
// .rst and .md pages. The server owns everything a user sees (diagnostics, hovers, quick
// fixes, code lenses and their commands); this file only starts it with the right settings.
//
// Workspace trust: in an untrusted workspace the server starts with `execute: false`, so it
// only parses pages, and VS Code ignores the workspace's `serverPath` and `python` (both are
// restricted configurations in package.json). Granting trust restarts it with the settings.

import * as vscode from 'vscode';
import {
  ConfigurationRequest,
  DocumentSelector,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from 'vscode-languageclient/node';

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

function serverCommand(): string {
  const path = vscode.workspace.getConfiguration(SECTION).get<string>('serverPath', '').trim();
  return path || 'objgraph-doctest';
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

function restart(outputChannel: vscode.OutputChannel): Promise<void> {
  lifecycle = lifecycle.then(async () => {
    await stopClient();
    const command = serverCommand();
    client = createClient(command, outputChannel);
    try {
      await client.start();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      void vscode.window.showErrorMessage(
        `objgraph-doctest: could not start \`${command} lsp\`: ${message}. ` +
          'Set objgraphDoctest.serverPath to the objgraph-doctest binary.',
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
  context.subscriptions.push(
    outputChannel,
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(SECTION)) {
        void restart(outputChannel);
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void restart(outputChannel)),
    // Not one of the server's command ids (objgraph-doctest.runPage, .runFrom): the client
    // registers those itself from the server's executeCommandProvider.
    vscode.commands.registerCommand('objgraph-doctest.restartServer', () => restart(outputChannel)),
  );
  return restart(outputChannel);
}

export function deactivate(): Promise<void> {
  lifecycle = lifecycle.then(stopClient);
  return lifecycle;
}
