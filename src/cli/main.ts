/**
 * The `zoostate` command line: `start` (an ensemble in this process serving ZooKeeper
 * clients), `server --config zoo.cfg` (one member of a multi-process ensemble), `shell`
 * (a zkCli-style shell). Every subcommand has a complete `--help`.
 *
 * Exit codes: 0 success (and clean shutdown after SIGTERM/SIGINT), 1 failure, 2 usage
 * or configuration error.
 */
import { UsageError } from './args.js';
import { ZooCfgError } from './zoo-cfg.js';
import { SERVER_HELP, serverCommand } from './server.js';
import { START_HELP, startCommand } from './start.js';
import { SHELL_HELP, shellCommand } from './shell/shell.js';
import { fullVersion } from '../server/version.js';

/** `zoostate --help`. */
export const HELP = `zoostate: an embeddable ZooKeeper for Node.js

Usage:
  zoostate start [--servers N] [--observers M] [--port P] [--data-dir D]
                 [--transport inproc|worker|tcp] [options]
      Run an ensemble in this process, serving ZooKeeper clients on TCP ports P, P+1, ...
      Prints 'ready host:port,...' once every server serves.
  zoostate server --config zoo.cfg [options]
      Run one server of a multi-process ensemble configured by a ZooKeeper zoo.cfg
      (myid in its dataDir). Prints 'ready host:port' once it serves.
  zoostate shell [-server host:port,...] [cmd args...]
      A zkCli-style shell (works against zoostate and Apache ZooKeeper).
  zoostate --version
  zoostate help [command]

Run 'zoostate <command> --help' for a command's options.

Four-letter words (ruok, srvr, stat, mntr, conf, cons, crst, srst, envi, wchs, wchc,
wchp, dump, isro, dirs) answer on every client port; all are enabled unless a
whitelist (--4lw-whitelist, or 4lw.commands.whitelist in zoo.cfg) narrows them.
`;

const COMMANDS: Record<string, { help: string; run: (argv: readonly string[]) => Promise<number> }> = {
  start: { help: START_HELP, run: startCommand },
  server: { help: SERVER_HELP, run: serverCommand },
  shell: { help: SHELL_HELP, run: shellCommand },
};

/** Run the command line `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === 'help') {
    const topic = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
    process.stdout.write(topic?.help ?? HELP);
    return 0;
  }
  if (command === '--version' || command === 'version') {
    process.stdout.write(`zoostate ${fullVersion()}\n`);
    return 0;
  }
  const sub = COMMANDS[command];
  if (sub === undefined) {
    process.stderr.write(`zoostate: unknown command '${command}'\n\n${HELP}`);
    return 2;
  }
  try {
    return await sub.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`zoostate ${command}: ${error.message}\n\n${sub.help}`);
      return 2;
    }
    if (error instanceof ZooCfgError) {
      process.stderr.write(`zoostate ${command}: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`zoostate ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Let stdout drain, but do not let a stray timer or socket keep a finished command alive.
    setTimeout(() => process.exit(code), 1000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`zoostate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
