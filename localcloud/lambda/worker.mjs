/**
 * Bootstrap of one Lambda sandbox, run inside a worker_threads Worker whose `env` is the
 * function's Lambda environment. Plain .mjs on purpose: the worker starts on bare Node
 * (no TypeScript loader), the way the Lambda runtime starts code in /var/task.
 * Message contract: worker-protocol.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { existsSync, readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { getHeapStatistics } from 'node:v8';

/** @type {import('./worker-protocol.js').WorkerBootData} */
const boot = workerData;
const port = parentPort;
if (!port) throw new Error('worker.mjs must run inside a worker thread');

/** Request id of the invocation in progress: console lines are tagged with it, like Lambda does. */
let currentRequestId;

// ---- logs: everything goes through the message port, so it arrives before the 'done' message.
const emit = (text) => port.postMessage({ type: 'log', text });
for (const stream of [process.stdout, process.stderr]) {
  stream.write = (chunk, encoding, callback) => {
    emit(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = typeof encoding === 'function' ? encoding : callback;
    if (done) done();
    return true;
  };
}
const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
for (const [method, level] of Object.entries(levels)) {
  console[method] = (...args) =>
    emit(`${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\t${level}\t${format(...args)}\n`);
}

// ---- handler loading (the cold start)
class HandlerLoadError extends Error {
  constructor(errorType, message) {
    super(message);
    this.name = errorType;
  }
}

/** "dir/file.a.b" -> module "dir/file", export path ["a", "b"] (Lambda splits after the last '/'). */
function parseHandler(handler) {
  const dot = handler.indexOf('.', handler.lastIndexOf('/') + 1);
  if (dot <= 0 || dot === handler.length - 1) {
    throw new HandlerLoadError('Runtime.MalformedHandlerName', `Bad handler ${handler}`);
  }
  return { moduleName: handler.slice(0, dot), exportPath: handler.slice(dot + 1).split('.') };
}

/**
 * The handler's file, which must be inside the code directory, as it must be inside
 * /var/task on Lambda: `../x` or an absolute path would load whatever the host has there.
 */
function findModuleFile(moduleName) {
  const base = path.resolve(boot.codeDir, moduleName);
  const relative = path.relative(boot.codeDir, base);
  if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw new HandlerLoadError(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${moduleName}': the handler's module must be inside the function's code directory`,
    );
  }
  for (const extension of ['.js', '.mjs', '.cjs']) {
    if (existsSync(base + extension)) return base + extension;
  }
  throw new HandlerLoadError('Runtime.ImportModuleError', `Error: Cannot find module '${moduleName}'`);
}

/**
 * In Lambda, /var/task is the top of the package tree, so a `.js` file is CommonJS unless the
 * asset's own package.json says "type": "module". Here the asset lives inside the project
 * (cdk.out/asset.x), whose package.json may say "module": Node would then load a CommonJS
 * bundle as ESM and fail. So the package scope is decided at codeDir, as Lambda would.
 */
function codeDirIsEsmScope() {
  const manifest = path.join(boot.codeDir, 'package.json');
  if (!existsSync(manifest)) return false;
  return JSON.parse(readFileSync(manifest, 'utf8')).type === 'module';
}

function requireAsCommonJs(file) {
  const root = boot.codeDir.endsWith(path.sep) ? boot.codeDir : boot.codeDir + path.sep;
  const loadJs = Module._extensions['.js'];
  Module._extensions['.js'] = function loadAssetJs(module, filename) {
    if (!filename.startsWith(root)) return loadJs.call(this, module, filename);
    module._compile(readFileSync(filename, 'utf8'), filename);
  };
  return createRequire(file)(file);
}

async function loadModule(file) {
  if (file.endsWith('.mjs') || (file.endsWith('.js') && codeDirIsEsmScope())) {
    // Each worker has its own module cache already; the version query keeps that true even if
    // the loader ever shares it, and makes redeploys visible in stack traces.
    return import(`${pathToFileURL(file).href}?v=${boot.codeVersion}`);
  }
  return requireAsCommonJs(file);
}

async function loadHandler() {
  const { moduleName, exportPath } = parseHandler(boot.handler);
  const file = findModuleFile(moduleName);
  let target;
  try {
    target = await loadModule(file);
  } catch (error) {
    if (error instanceof Error && error.name === 'SyntaxError') {
      throw new HandlerLoadError('Runtime.UserCodeSyntaxError', `${error.name}: ${error.message}`);
    }
    throw error;
  }
  // CommonJS modules imported as ESM expose module.exports as `default`.
  const handler = exportPath.reduce((value, key) => value?.[key], target) ??
    exportPath.reduce((value, key) => value?.[key], target?.default);
  if (typeof handler !== 'function') {
    throw new HandlerLoadError('Runtime.HandlerNotFound', `${boot.handler} is undefined or not exported`);
  }
  return handler;
}

const initStarted = performance.now();
const loading = loadHandler().then(
  (handler) => ({ handler, initDurationMs: performance.now() - initStarted }),
  (error) => ({ error }),
);
// The pool limits how many sandboxes of a function initialize at once; it learns here that this one is done.
void loading.then(() => port.postMessage({ type: 'initialized' }));

// ---- invocations
/**
 * A trace names paths as Lambda's do: the function's code under /var/task, the runtime under
 * /var/runtime. The host's own paths (the checkout, the temp dir, the user's name) are none of
 * the caller's business, and an answer that quotes them differs from AWS's for no reason.
 */
const runtimeDir = path.dirname(fileURLToPath(import.meta.url));
const codeRoots = [pathToFileURL(boot.codeDir).href, boot.codeDir];
const runtimeRoots = [pathToFileURL(runtimeDir).href, runtimeDir];
function lambdaPaths(line) {
  // Frames only: the message is the function's own words.
  if (!/^\s+at /.test(line)) return line;
  let out = line.replace(/\?v=[^:)\s]*/g, '');
  for (const root of codeRoots) out = out.split(root).join('/var/task');
  for (const root of runtimeRoots) out = out.split(root).join('/var/runtime');
  return out;
}

function toInvokeError(error) {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n').map(lambdaPaths) };
  }
  return { errorType: typeof error === 'string' ? 'string' : 'Error', errorMessage: String(error), trace: [] };
}

function createContext(requestId, deadline) {
  return {
    ...boot.context,
    awsRequestId: requestId,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

/** Async handlers return a promise; callback-style handlers (3 parameters) call back. */
function callHandler(handler, event, context) {
  if (handler.length < 3) return handler(event, context);
  return new Promise((resolve, reject) => {
    const returned = handler(event, context, (error, result) => (error ? reject(error) : resolve(result)));
    if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
  });
}

const memoryUsedMb = () => Math.ceil(getHeapStatistics().used_heap_size / 1024 / 1024);
let initReported = false;

async function invoke({ requestId, event, deadline }) {
  currentRequestId = requestId;
  const loaded = await loading;
  const initDurationMs = initReported ? undefined : loaded.initDurationMs;
  initReported = true;
  const started = performance.now();
  const base = () => ({ type: 'done', requestId, durationMs: performance.now() - started, initDurationMs, memoryUsedMb: memoryUsedMb() });
  if ('error' in loaded) {
    port.postMessage({ ...base(), ok: false, error: toInvokeError(loaded.error), initFailed: true });
    return;
  }
  try {
    const result = await callHandler(loaded.handler, event, createContext(requestId, deadline));
    // JSON.stringify(undefined) is undefined: Lambda answers null then.
    const payloadJson = JSON.stringify(result) ?? 'null';
    port.postMessage({ ...base(), ok: true, payloadJson });
  } catch (error) {
    const invokeError = toInvokeError(error);
    // Lambda writes the failure into the function's log too, where a stream or queue
    // triggered invocation (no caller to see the response) can still be debugged.
    console.error('Invoke Error', JSON.stringify(invokeError));
    port.postMessage({ ...base(), ok: false, error: invokeError, initFailed: false });
  } finally {
    currentRequestId = undefined;
  }
}

port.on('message', (message) => {
  if (message.type === 'invoke') void invoke(message);
});
