/**
 * Three `zoostate server` processes forming one ensemble over TCP, configured like an
 * Apache ZooKeeper cluster (a zoo.cfg and a myid file per server), with the status-board
 * example running against them:
 *
 *   npx tsx examples/cluster/run.ts
 *
 * The script writes the three configurations into a temporary directory, starts the
 * servers (`zoostate server --config zooN.cfg`), waits for each one's `ready host:port`
 * line, asks each for its role (`srvr`), runs examples/status-board.ts with the
 * ensemble's connect string, then stops the servers with SIGTERM and removes the
 * directory. Exits 0 if everything went as expected.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ZOOSTATE = join(REPO, 'bin', 'zoostate.js');
const BOARD = join(REPO, 'examples', 'status-board.ts');
const SECRET = 'cluster-example-secret';
const IDS = [1, 2, 3] as const;

const say = (text: string): void => console.log(`cluster: ${text}`);

/** A free TCP port on 127.0.0.1 (bound to 0, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Send a four-letter word and return the answer. */
function fourLetterWord(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(word));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

/** One running `zoostate server`. */
class ServerProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | string>;

  constructor(readonly id: number, config: string) {
    this.child = spawn(process.execPath, [ZOOSTATE, 'server', '--config', config, '--secret', SECRET, '--quiet'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The address of its `ready host:port` line. */
  async ready(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = /^ready (\S+)$/m.exec(this.stdout);
      if (match) return match[1]!;
      if (!this.running) throw new Error(`server ${this.id} exited before it was ready:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`server ${this.id} not ready within ${timeoutMs} ms:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Signal it and wait for its exit. */
  stop(signal: NodeJS.Signals): Promise<number | string> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}

/** Write server.N's dataDir/myid and zooN.cfg (an ordinary ZooKeeper zoo.cfg). */
function writeConfigs(root: string, ports: number[]): string[] {
  const members = IDS.map((id) => {
    const [client, quorum, election] = ports.slice((id - 1) * 3, id * 3);
    return `server.${id}=127.0.0.1:${quorum}:${election};127.0.0.1:${client}`;
  });
  return IDS.map((id) => {
    const dataDir = join(root, `zk${id}`);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'myid'), `${id}\n`);
    const file = join(root, `zoo${id}.cfg`);
    const lines = ['tickTime=200', 'initLimit=25', 'syncLimit=10', `dataDir=${dataDir}`, '4lw.commands.whitelist=*', ...members];
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  });
}

/** Run the status-board example against `connectString`, echoing its output; resolves with its exit code. */
function runBoard(connectString: string): Promise<number | string> {
  const child = spawn(process.execPath, ['--import', 'tsx', BOARD, connectString], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const echo = (stream: NodeJS.ReadableStream, write: (line: string) => void): void => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) write(`board | ${line}`);
    });
    stream.on('end', () => rest !== '' && write(`board | ${rest}`));
  };
  echo(child.stdout!, (line) => console.log(line));
  echo(child.stderr!, (line) => console.error(line));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal ?? -1);
    }),
  );
}

async function main(): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), 'zoostate-cluster-'));
  const servers: ServerProcess[] = [];
  const abort = (): void => {
    for (const s of servers) s.child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  try {
    const ports = await Promise.all(Array.from({ length: 9 }, () => freePort()));
    const configs = writeConfigs(root, ports);
    say(`wrote ${configs.map((c) => c.slice(root.length + 1)).join(', ')} and myid files under ${root}`);
    for (const id of IDS) servers.push(new ServerProcess(id, configs[id - 1]!));
    say('started 3 processes: zoostate server --config zooN.cfg');
    const addresses = await Promise.all(servers.map((s) => s.ready(60_000)));
    for (const [i, address] of addresses.entries()) say(`server ${IDS[i]} ready on ${address}`);
    const modes = await Promise.all(
      addresses.map(async (a) => /Mode: (\w+)/.exec(await fourLetterWord(Number(a.slice(a.lastIndexOf(':') + 1)), 'srvr'))?.[1] ?? '?'),
    );
    say(`roles (srvr): ${modes.map((m, i) => `server ${IDS[i]} ${m}`).join(', ')}`);

    const connectString = addresses.join(',');
    say(`running examples/status-board.ts against ${connectString}`);
    const board = await runBoard(connectString);
    say(`the status board finished with exit code ${board}`);

    say('stopping the servers (SIGTERM)');
    const codes = await Promise.all(servers.map((s) => s.stop('SIGTERM')));
    say(`exit codes: ${codes.map((c, i) => `server ${IDS[i]} ${c}`).join(', ')}`);
    const ok = board === 0 && codes.every((c) => c === 0) && [...modes].sort().join() === 'follower,follower,leader';
    say(ok ? 'done' : 'something went wrong (see above)');
    return ok ? 0 : 1;
  } catch (error) {
    console.error(`cluster: ${(error as Error).message}`);
    return 1;
  } finally {
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    rmSync(root, { recursive: true, force: true });
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  }
}

process.exitCode = await main();
