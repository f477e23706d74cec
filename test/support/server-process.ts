import { spawn, type ChildProcess } from 'node:child_process';

/** Bounds that only a broken server reaches; a slow one stays far inside them. */
const START_BOUND_MS = 120_000;
const EXIT_BOUND_MS = 180_000;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Server {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Everything the group printed so far. */
  output(): string;
}

/**
 * `npm start` as a user runs it, in a process group of its own so a signal can reach all of it.
 * With `node`, `nodeArgs` go before the entry (a bench's `--cpu-prof`, which NODE_OPTIONS refuses).
 */
export async function startServer(env: NodeJS.ProcessEnv, command: 'npm' | 'node', nodeArgs: readonly string[] = []): Promise<Server> {
  const args = command === 'npm' ? ['start'] : [...nodeArgs, '--import', 'tsx', 'bin/local.ts'];
  const child = spawn(command === 'npm' ? 'npm' : process.execPath, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const bound = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), START_BOUND_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(bound);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${output}`)));
  });
  return { url, child, exited, output: () => output };
}

/** Resolves once no process of the server's group is left (npm may exit before its child). */
export async function groupGone(server: Server): Promise<void> {
  const bound = Date.now() + EXIT_BOUND_MS;
  for (;;) {
    try {
      if (server.child.pid) process.kill(-server.child.pid, 0);
    } catch {
      return;
    }
    if (Date.now() > bound) throw new Error(`the server's processes were still running after ${EXIT_BOUND_MS} ms:\n${server.output()}`);
    await sleep(50);
  }
}

export function signalGroup(server: Server, signal: NodeJS.Signals): void {
  if (server.child.pid) process.kill(-server.child.pid, signal);
}

