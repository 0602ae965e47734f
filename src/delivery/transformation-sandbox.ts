import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime, type QuickJSWASMModule, RELEASE_SYNC } from 'quickjs-emscripten';

/**
 * Runs transformation code in QuickJS compiled to WebAssembly: the code sees a bare JavaScript
 * engine (no require, network, file system, timers or process; nothing of the host is handed in)
 * and touches nothing but its own WebAssembly memory. `node:vm` is not used: it shares the host's
 * heap and is not a security boundary.
 *
 * Each endpoint's code is compiled once, in a runtime of its own with its own memory limit, and
 * kept while the code stays the same (keyed by endpoint and code): a warm call is one function call
 * into the engine with a JSON string in and a JSON string out. A call that runs past its CPU
 * deadline or out of memory discards that runtime, so whatever the code left behind never weighs
 * on a later call; one that merely throws keeps it.
 *
 * Memory is bounded twice. QuickJS's own limit per runtime stops any one allocation larger than
 * `memoryBytes`, but the prebuilt WebAssembly cannot count what many small allocations add up to
 * (quickjs-emscripten issue 271: it has no malloc_usable_size). So the sandbox gives the engine a
 * WebAssembly memory of its own whose maximum is `totalMemoryBytes`: a handler that allocates
 * without bound makes the engine's malloc fail there, QuickJS raises "out of memory", the call
 * fails and its runtime is discarded, which frees that memory for the next call. The host's own
 * memory is never touched beyond that cap.
 *
 * The engine runs on the caller's thread, synchronously; Herald calls it in a worker thread of its
 * own (transformation-runner.ts), so a handler that spends its whole CPU limit holds up only other
 * transformations, never the event loop that sends deliveries.
 */

export interface SandboxLimits {
  /** How long one call may run before it is interrupted. */
  cpuMs: number;
  /**
   * How long compiling (and running the code's top level) may take: longer, since an engine's
   * first runtime on a cold WebAssembly instance takes milliseconds to set up on its own.
   */
  compileMs: number;
  /** The largest single allocation an endpoint's engine may make. */
  memoryBytes: number;
  /** The WebAssembly memory all the sandbox's engines share, which none can grow beyond. */
  totalMemoryBytes: number;
  /** Bounds recursion, which would otherwise run out of the engine's stack rather than its heap. */
  stackBytes: number;
  /** Compiled endpoints kept; the least recently used goes first. */
  cacheSize: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { cpuMs: 50, compileMs: 500, memoryBytes: 8 * 1024 * 1024, totalMemoryBytes: 32 * 1024 * 1024, stackBytes: 256 * 1024, cacheSize: 64 };

/** Why a call produced no output: stable words, shown to whoever wrote the code. */
export type SandboxFailure = 'timeout' | 'memory' | 'error';

export type SandboxOutcome = { ok: true; output: string } | { ok: false; failure: SandboxFailure; detail: string };

export interface TransformationSandbox {
  /**
   * Calls `handler` of `code` with the webhook whose JSON is `input`, and answers the JSON of what
   * it returned (or why there is none). `key` names whose code it is (an endpoint's id), so the
   * compiled code is found again; null compiles afresh and discards it after (simulate).
   */
  run(key: string | null, code: string, input: string): SandboxOutcome;
  /** Compiles `code` and discards it: why it cannot run (a syntax error, no handler), or null. */
  check(code: string): string | null;
  /** How many compiled endpoints are kept (for tests and metrics). */
  readonly size: number;
  dispose(): void;
}

/**
 * What the engine evaluates after the code: a function the host calls with the webhook's JSON,
 * which answers the JSON of what `handler` returned. Parsing and serialising inside the engine
 * keeps each call to two strings across the boundary, instead of a handle per property.
 */
const ENTRY = `(function (handler) {
  if (typeof handler !== 'function') throw new TypeError('the code must define function handler(webhook)');
  return function (input) {
    var result = handler(JSON.parse(input));
    var json = JSON.stringify(result);
    if (typeof json !== 'string') throw new TypeError('handler must return the webhook object, not ' + (result === undefined ? 'undefined' : typeof result));
    return json;
  };
})(typeof handler === 'undefined' ? undefined : handler)`;

interface Compiled {
  code: string;
  runtime: QuickJSRuntime;
  context: QuickJSContext;
  entry: QuickJSHandle;
  deadline: number;
}

// The project's TypeScript settings leave out the WebAssembly declarations; Node has the class.
const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => object } }).WebAssembly.Memory;
const PAGE = 64 * 1024;
/** The memory the prebuilt engine declares it starts with (Emscripten's INITIAL_MEMORY). */
const INITIAL_BYTES = 16 * 1024 * 1024;

/** An engine instance with a WebAssembly memory of its own, which cannot grow past `totalBytes`. */
function loadEngine(totalBytes: number): Promise<QuickJSWASMModule> {
  const maximum = Math.max(INITIAL_BYTES, totalBytes) / PAGE;
  const wasmMemory = new WasmMemory({ initial: INITIAL_BYTES / PAGE, maximum: Math.ceil(maximum) });
  return newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmMemory: wasmMemory as never }));
}

export async function createTransformationSandbox(limits: Partial<SandboxLimits> = {}): Promise<TransformationSandbox> {
  const { cpuMs, compileMs, memoryBytes, totalMemoryBytes, stackBytes, cacheSize } = { ...DEFAULT_SANDBOX_LIMITS, ...limits };
  let engine: QuickJSWASMModule | null = await loadEngine(totalMemoryBytes);
  let reloading: Promise<void> | null = null;
  const cache = new Map<string, Compiled>();

  const discard = (compiled: Compiled) => {
    try {
      compiled.entry.dispose();
      compiled.context.dispose();
      compiled.runtime.dispose();
    } catch {
      // A runtime left inconsistent by an interrupted allocation may refuse to be freed cleanly;
      // it is unreachable either way.
    }
  };

  const restart = () => {
    cache.clear(); // the old instance's memory goes with it; nothing in it is freed one by one
    engine = null;
    reloading ??= loadEngine(totalMemoryBytes).then((fresh) => {
      engine = fresh;
      reloading = null;
    }, () => {
      reloading = null;
    });
  };

  const compile = (code: string): Compiled | SandboxOutcome => {
    const runtime = engine!.newRuntime();
    runtime.setMemoryLimit(memoryBytes);
    runtime.setMaxStackSize(stackBytes);
    const context = runtime.newContext();
    const compiled = { code, runtime, context, entry: context.undefined, deadline: performance.now() + compileMs };
    runtime.setInterruptHandler(() => performance.now() > compiled.deadline);
    const evaluated = context.evalCode(`${code}\n;${ENTRY}`, 'transformation.js');
    if (evaluated.error) {
      const failure = failureOf(context, evaluated.error);
      evaluated.error.dispose();
      discard(compiled);
      return failure;
    }
    compiled.entry = evaluated.value;
    return compiled;
  };

  const call = (compiled: Compiled, input: string): SandboxOutcome => {
    const { context } = compiled;
    compiled.deadline = performance.now() + cpuMs;
    const argument = context.newString(input);
    const result = context.callFunction(compiled.entry, context.undefined, argument);
    argument.dispose();
    if (result.error) {
      const failure = failureOf(context, result.error);
      result.error.dispose();
      return failure;
    }
    const output = context.getString(result.value);
    result.value.dispose();
    return { ok: true, output };
  };

  const runIn = (key: string | null, code: string, input: string): SandboxOutcome => {
    let compiled = key === null ? undefined : cache.get(key);
    if (compiled && compiled.code !== code) {
      cache.delete(key!);
      discard(compiled);
      compiled = undefined;
    }
    if (!compiled) {
      const made = compile(code);
      if ('ok' in made) return made;
      compiled = made;
      if (key !== null) {
        if (cache.size >= cacheSize) {
          const oldest = cache.keys().next().value!;
          discard(cache.get(oldest)!);
          cache.delete(oldest);
        }
        cache.set(key, compiled);
      }
    } else {
      // Most recently used last, so the first key is the one to evict.
      cache.delete(key!);
      cache.set(key!, compiled);
    }
    const outcome = call(compiled, input);
    // Out of time or memory, or run once for simulate: nothing of this engine is kept.
    if (key === null || (!outcome.ok && outcome.failure !== 'error')) {
      if (key !== null) cache.delete(key);
      discard(compiled);
    }
    return outcome;
  };

  return {
    run(key, code, input) {
      if (!engine) return { ok: false, failure: 'error', detail: 'the sandbox is restarting' };
      try {
        return runIn(key, code, input);
      } catch (error) {
        // The engine itself failed (a WebAssembly trap): none of its runtimes can be trusted, so
        // a fresh instance replaces it; calls meanwhile fail, and their deliveries try again later.
        restart();
        return { ok: false, failure: 'error', detail: `the sandbox failed and is restarting: ${(error as Error).message}` };
      }
    },
    check(code) {
      if (!engine) return 'the sandbox is restarting';
      try {
        const made = compile(code);
        if ('ok' in made) return made.ok ? null : made.detail;
        discard(made);
        return null;
      } catch (error) {
        restart();
        return `the sandbox failed and is restarting: ${(error as Error).message}`;
      }
    },
    get size() {
      return cache.size;
    },
    dispose() {
      for (const compiled of cache.values()) discard(compiled);
      cache.clear();
      engine = null;
    },
  };
}

/** Turns an exception the engine raised into the reason the call failed. */
function failureOf(context: QuickJSContext, error: QuickJSHandle): SandboxOutcome {
  let name = 'Error';
  let message = '';
  try {
    const dumped = context.dump(error) as { name?: unknown; message?: unknown } | string | null;
    if (dumped && typeof dumped === 'object') {
      name = typeof dumped.name === 'string' ? dumped.name : name;
      message = typeof dumped.message === 'string' ? dumped.message : JSON.stringify(dumped);
    } else if (dumped === null) {
      // What QuickJS throws when it could not even allocate the error.
      message = 'out of memory';
    } else {
      message = String(dumped);
    }
  } catch {
    message = 'an exception that could not be read';
  }
  if (name === 'InternalError' && /interrupted/.test(message)) {
    return { ok: false, failure: 'timeout', detail: `handler ran longer than its CPU time limit and was stopped` };
  }
  if (/out of memory/i.test(message) || (name === 'InternalError' && /stack overflow/.test(message))) {
    return { ok: false, failure: 'memory', detail: `handler ran out of memory (${message})` };
  }
  return { ok: false, failure: 'error', detail: `${name}: ${message}` };
}

