import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A redis-server (the Debian package) of the test's own, on a free loopback port, no persistence. */
export class TestRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly password: string,
    private readonly dir: string,
    /** Extra server arguments (TLS). */
    private readonly extra: string[] = [],
  ) {}

  /**
   * A TLS-only server with a certificate for localhost signed by a CA of its own (made with
   * openssl); `ca` is the CA's PEM file a client must trust.
   */
  static async startTls(password = 'farm-test-secret'): Promise<TestRedis & { ca: string }> {
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'test-redis-tls-'));
    const openssl = (args: string[]) => run('openssl', args, { cwd: dir });
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test-ca']);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
    await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost\n');
    await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);
    const tls = ['--port', '0', '--tls-port', String(port), '--tls-cert-file', join(dir, 'server.pem'), '--tls-key-file', join(dir, 'server.key'), '--tls-ca-cert-file', join(dir, 'ca.pem'), '--tls-auth-clients', 'no'];
    const redis = new TestRedis(port, password, dir, tls);
    await redis.launch();
    return Object.assign(redis, { ca: join(dir, 'ca.pem') });
  }

  static async start(password = 'farm-test-secret'): Promise<TestRedis> {
    const port = await freePort();
    const redis = new TestRedis(port, password, await mkdtemp(join(tmpdir(), 'test-redis-')));
    await redis.launch();
    return redis;
  }

  get url(): string {
    return this.extra.length > 0 ? `rediss://:${this.password}@localhost:${this.port}` : `redis://:${this.password}@127.0.0.1:${this.port}`;
  }

  /** Starts the server again on the same port (empty: nothing was saved). */
  async launch(): Promise<void> {
    const bin = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
    const child = spawn(bin, ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no', '--requirepass', this.password, ...this.extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (/ready to accept connections/i.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${bin} (apt-get install redis-server): ${error.message}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
    child.stdout!.resume();
    child.stderr!.resume();
  }

  /** SIGKILL, as a crash would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

const run = promisify(execFile);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
