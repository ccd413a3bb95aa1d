import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { recognizeRuntimeError } from '../errors/recognize-error.js';
import { parseProfile, takeProfileFile, type ProfiledNode } from './execution-profile.js';

/**
 * onnxruntime sessions on a thread of their own. onnxruntime-node's `run` holds the calling thread for the
 * whole batch (measured: a 7-s CPU run let a 10-ms timer fire once), so on the main thread a long batch
 * stopped everything else in the worker: heartbeats (its advert expired and it vanished from routing), lock
 * renewals (a batch longer than LOCK_MS would lose its job) and memory sampling. Here the main thread keeps
 * running while a batch runs; batches still run one at a time, in the order asked.
 */
export interface ThreadedSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs a batch. A feed whose typed array spans its whole buffer is moved to the thread, not copied: it is empty afterwards. */
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  /**
   * The nodes of the session's first run as onnxruntime's profiler saw them (element types, provider), for a
   * session created with `profileFirstRun`; undefined before that run.
   */
  readonly firstRun?: readonly ProfiledNode[];
  release(): Promise<void>;
}

interface WireTensor {
  type: ort.Tensor.Type;
  data: ort.Tensor.DataType;
  dims: readonly number[];
}

type Request =
  | { op: 'create'; path: string; options: ort.InferenceSession.SessionOptions; profiled: boolean }
  | { op: 'run'; session: number; feeds: Record<string, WireTensor> }
  | { op: 'release'; session: number };

// The thread's code, evaluated as a script (no file to find from sources under vitest or from dist).
const THREAD = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const loaded = import(workerData.ortUrl);
const sessions = new Map();
let next = 1;
const wire = (t) => ({ type: t.type, data: t.data, dims: t.dims });
parentPort.on('message', async ({ id, request }) => {
  try {
    const ort = await loaded;
    if (request.op === 'create') {
      const session = await ort.InferenceSession.create(request.path, request.options);
      session.profiling = request.profiled;
      sessions.set(next, session);
      parentPort.postMessage({ id, result: { session: next++, inputNames: session.inputNames, outputNames: session.outputNames } });
    } else if (request.op === 'run') {
      const feeds = {};
      for (const [name, t] of Object.entries(request.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      const session = sessions.get(request.session);
      const outputs = await session.run(feeds);
      // The first run only: the profile says what the session computes in; later runs are not slowed by it.
      if (session.profiling) {
        session.endProfiling();
        session.profiling = false;
      }
      const result = {};
      for (const [name, t] of Object.entries(outputs)) result[name] = wire(t);
      const buffers = Object.values(result).map((t) => t.data.buffer);
      try {
        parentPort.postMessage({ id, result }, buffers);
      } catch {
        parentPort.postMessage({ id, result }); // a buffer the addon owns cannot move: copied instead
      }
      for (const t of Object.values(outputs)) t.dispose?.();
    } else {
      await sessions.get(request.session)?.release();
      sessions.delete(request.session);
      parentPort.postMessage({ id, result: null });
    }
  } catch (err) {
    parentPort.postMessage({ id, error: { name: err && err.name, message: err && err.message ? err.message : String(err) } });
  }
});
`;

/** One thread holding every session of a process (a WebGPU context is per process anyway). */
export class SessionThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failure?: Error;

  constructor() {
    const ortUrl = pathToFileURL(createRequire(import.meta.url).resolve('onnxruntime-node')).href;
    this.worker = new Worker(THREAD, { eval: true, workerData: { ortUrl } });
    this.worker.unref(); // sessions do not keep a process alive
    this.worker.on('message', ({ id, result, error }: { id: number; result?: unknown; error?: { name?: string; message: string } }) => {
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (!waiter) return;
      // onnxruntime's errors enter gpuq here: out of memory, a lost device or a refused tensor become gpuq's classes.
      if (error) waiter.reject(recognizeRuntimeError(Object.assign(new Error(error.message), error.name && error.name !== 'Error' ? { name: error.name } : {})) as Error);
      else waiter.resolve(result);
    });
    const failAll = (died: Error) => {
      // Transient: the next session is created on a new thread (SessionCache starts one when this is unhealthy).
      const err = recognizeRuntimeError(died) as Error;
      this.failure = err;
      for (const waiter of this.pending.values()) waiter.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (err) => failAll(new Error(`onnxruntime thread failed: ${err.message}`)));
    this.worker.on('exit', (code) => failAll(new Error(`onnxruntime thread exited (${code})`)));
  }

  /** False once the thread has died: its sessions are gone, and a new SessionThread is needed. */
  get healthy(): boolean {
    return this.failure === undefined;
  }

  /**
   * Creates a session on the thread. With `profileFirstRun`, onnxruntime profiles the session's first run and
   * `firstRun` then holds its nodes: what precision and provider each really ran in.
   */
  async create(path: string, options: ort.InferenceSession.SessionOptions, { profileFirstRun = false } = {}): Promise<ThreadedSession> {
    const profilePrefix = profileFirstRun ? join(tmpdir(), `gpuq-profile-${process.pid}-${randomBytes(6).toString('hex')}`) : undefined;
    const sessionOptions = profilePrefix ? { ...options, enableProfiling: true, profileFilePrefix: profilePrefix } : options;
    const { session, inputNames, outputNames } = (await this.call({ op: 'create', path, options: sessionOptions, profiled: !!profilePrefix })) as { session: number; inputNames: string[]; outputNames: string[] };
    let firstRun: ProfiledNode[] | undefined;
    let profilePending = !!profilePrefix;
    return {
      inputNames, outputNames,
      get firstRun() {
        return firstRun;
      },
      run: async (feeds) => {
        const wire: Record<string, WireTensor> = {};
        const moved: ArrayBuffer[] = [];
        for (const [name, t] of Object.entries(feeds)) {
          wire[name] = { type: t.type, data: t.data, dims: t.dims };
          const view = t.data as ArrayBufferView;
          // A batch of 32 pages at 960² is 354 MB: moved, not copied.
          if (view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) moved.push(view.buffer);
        }
        const outputs = (await this.call({ op: 'run', session, feeds: wire }, moved)) as Record<string, WireTensor>;
        if (profilePending) {
          profilePending = false;
          firstRun = parseProfile(await takeProfileFile(profilePrefix!));
        }
        return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, new ort.Tensor(t.type, t.data as never, t.dims)]));
      },
      release: async () => void (await this.call({ op: 'release', session })),
    };
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private call(request: Request, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    // Referenced while a call is pending (a script awaiting a batch must not exit), not while idle.
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      const settle = () => this.pending.size === 0 && this.worker.unref();
      this.pending.set(id, { resolve: (v) => (resolve(v), settle()), reject: (e) => (reject(e), settle()) });
      this.worker.postMessage({ id, request }, transfer);
    });
  }
}
