/**
 * The `zoostate` command line. Subcommands are added as the server parts land; each
 * prints its own `--help`.
 */
const HELP = `zoostate: an embeddable ZooKeeper for Node.js

Usage:
  zoostate start [--servers N] [--observers M] [--port P] [--data-dir D] [--transport inproc|worker|tcp]
  zoostate --help
`;

function main(argv: string[]): number {
  const [command] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === 'start') {
    process.stderr.write('zoostate start: the replicated server is not built yet; this release ships the znode tree, codec and transports.\n');
    return 1;
  }
  process.stderr.write(`zoostate: unknown command '${command}'\n${HELP}`);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
