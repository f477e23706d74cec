import { spawn, type ChildProcess } from 'node:child_process';

/** The secret the bench's server signs with, so the bench can mint its own tokens. */
export const BENCH_JWT_SECRET = 'bench-secret-bench-secret-bench-secret!!';

export interface LocalServer {
  url: string;
  child: ChildProcess;
  /** SIGTERM, then waits for the exit: the server delivers what it has queued first. */
  stop(): Promise<void>;
}

/**
 * `bin/local.ts` as its own process on `databaseUrl`, as `npm start` runs it (writer thread
 * included), with the rate limits out of reach; `env` adds or overrides settings, `nodeArgs`
 * go to node (`--cpu-prof`, which NODE_OPTIONS refuses).
 */
export async function startLocalServer(databaseUrl: string, dataDir: string, env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<LocalServer> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'bin/local.ts'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, DATA_DIR: dataDir, PORT: '0', JWT_SECRET: BENCH_JWT_SECRET, TENANT_RATE_LIMIT_EVENTS: '100000000', TENANT_RATE_LIMIT_RPS: '1000000', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${output}`)));
  });
  // The server logs a line per request and delivery; the bench reads none of them.
  child.stdout?.removeAllListeners('data');
  child.stdout?.resume();
  return {
    url,
    child,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
