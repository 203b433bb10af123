#!/usr/bin/env node
// Drive an A2A server with the OFFICIAL @a2a-js/sdk client (protocol 1.0), over JSON-RPC
// or, with `--transport rest`, over HTTP+JSON.
//
// Usage: node tests/interop/js_client.mjs URL [-v] [--transport rest]
//
// Steps: card, blocking send, bare-message reply, stream, get, list (typed and
// untyped), cancel, resubscribe. Prints `ok step` / `FAIL step: why` per step; exits 0 only if
// every step passed. With -v, also prints each HTTP request the SDK makes.
import { randomUUID } from 'node:crypto';
import {
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
  RestTransportFactory,
} from '@a2a-js/sdk/client';
import { Role, TaskState } from '@a2a-js/sdk';

const STEP_TIMEOUT_MS = 30_000;
const args = process.argv.slice(2);
const VERBOSE = args.includes('-v') || args.includes('--verbose');
const ti = args.indexOf('--transport');
const TRANSPORT = ti >= 0 ? args[ti + 1] : 'jsonrpc';
const url = args.find((a, i) => !a.startsWith('-') && (ti < 0 || i !== ti + 1));
if (!url || !['jsonrpc', 'rest'].includes(TRANSPORT)) {
  console.error('usage: node js_client.mjs URL [-v] [--transport jsonrpc|rest]');
  process.exit(2);
}
// The card's protocolBinding the factory must pick, and the transport it then builds.
const BINDING = TRANSPORT === 'rest' ? 'HTTP+JSON' : 'JSONRPC';

class StepFailed extends Error {}
const check = (cond, why) => {
  if (!cond) throw new StepFailed(why);
};
const vlog = (...a) => VERBOSE && console.log('   ', ...a);
const stateName = (s) => TaskState[s] ?? String(s);

// fetch wrapper: logs requests with -v (used by both card resolver and transport)
const loggingFetch = async (input, init = {}) => {
  if (VERBOSE) {
    const h = new Headers(init.headers ?? {});
    const hs = [...h.entries()].map(([k, v]) => `${k}: ${v}`).join(', ');
    vlog(`> ${init.method ?? 'GET'} ${input} [${hs}]`, init.body ? String(init.body) : '');
  }
  return fetch(input, init);
};

const userMessage = (prefix, text) => ({
  messageId: `${prefix}-${randomUUID()}`,
  role: Role.ROLE_USER,
  parts: [{ content: { $case: 'text', value: text } }],
});
const textsOf = (msg) =>
  (msg?.parts ?? []).filter((p) => p.content?.$case === 'text').map((p) => p.content.value);
const taskTexts = (task) => [
  ...textsOf(task.status?.message),
  ...(task.history ?? []).filter((m) => m.role === Role.ROLE_AGENT).flatMap(textsOf),
];
const isMessage = (r) => r && 'messageId' in r && !('status' in r);
const describe = (ev) => {
  const p = ev.payload;
  if (!p) return '<empty>';
  if (p.$case === 'task') return `task(${stateName(p.value.status?.state)})`;
  if (p.$case === 'statusUpdate') return `status(${stateName(p.value.status?.state)})`;
  if (p.$case === 'artifactUpdate') return 'artifact';
  return p.$case;
};
const stateOf = (ev) => {
  const p = ev.payload;
  if (p?.$case === 'task' || p?.$case === 'statusUpdate') return p.value.status?.state;
  return undefined;
};
const taskIdOf = (ev) => {
  const p = ev.payload;
  if (p?.$case === 'task') return p.value.id;
  if (p?.$case === 'statusUpdate' || p?.$case === 'artifactUpdate') return p.value.taskId;
  return undefined;
};

let failed = 0;
let passed = 0;
async function step(name, fn) {
  let timer;
  try {
    await Promise.race([
      fn(),
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new StepFailed(`timed out after ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
      }),
    ]);
    passed++;
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    const why = e instanceof StepFailed ? e.message : `${e?.name ?? 'Error'}: ${e?.message ?? e}`;
    console.log(`FAIL ${name}: ${why}`);
  } finally {
    clearTimeout(timer);
  }
}

const factory = new ClientFactory(
  ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    // Only the chosen binding: a server without it fails the card step, not falls back.
    transports: [
      TRANSPORT === 'rest'
        ? new RestTransportFactory({ fetchImpl: loggingFetch })
        : new JsonRpcTransportFactory({ fetchImpl: loggingFetch }),
    ],
    cardResolver: new DefaultAgentCardResolver({ fetchImpl: loggingFetch }),
    preferredTransports: [BINDING],
  }),
);

let client;
let completedTask;
let streamedTaskId;

const need = (v, what) => {
  if (!v) throw new StepFailed(`skipped: needs ${what} from an earlier step`);
};

await step('card', async () => {
  client = await factory.createFromUrl(url);
  const card = client.agentCard;
  vlog('card:', card.name, JSON.stringify(card.supportedInterfaces));
  check(card.name, 'card has no name');
  check(card.capabilities?.streaming, 'card does not declare streaming');
  check(client.protocolVersion === '1.0', `client negotiated protocol ${client.protocolVersion}`);
  const t = client.transport;
  check(t.protocolName === BINDING, `factory picked ${t.protocolName}, expected ${BINDING}`);
  vlog('transport endpoint:', t.endpoint);
});

await step('send-blocking-complete', async () => {
  need(client, 'client');
  const r = await client.sendMessage({ message: userMessage('tck-complete-task', 'hello') });
  check(!isMessage(r), 'expected a task, got a message');
  check(r.id && r.contextId, 'task has no id/contextId');
  check(r.status?.state === TaskState.TASK_STATE_COMPLETED, `state ${stateName(r.status?.state)}`);
  check(
    taskTexts(r).some((t) => t.includes('Hello from TCK')),
    `no agent message "Hello from TCK" (${JSON.stringify(taskTexts(r))})`,
  );
  completedTask = r;
});

await step('send-message-response', async () => {
  need(client, 'client');
  const r = await client.sendMessage({ message: userMessage('tck-message-response', 'hi') });
  check(isMessage(r), 'expected a bare message');
  check(r.role === Role.ROLE_AGENT, 'message role is not agent');
});

await step('stream', async () => {
  need(client, 'client');
  const events = [];
  for await (const ev of client.sendMessageStream({ message: userMessage('tck-stream-001', 'stream please') })) {
    vlog('event:', describe(ev));
    events.push(ev);
  }
  const seq = events.map(describe).join(', ');
  check(events.length > 0, 'no events');
  const ids = new Set(events.map(taskIdOf));
  check(ids.size === 1, `events carry different task ids: ${[...ids]}`);
  const iWork = events.findIndex((e) => stateOf(e) === TaskState.TASK_STATE_WORKING);
  const iArt = events.findIndex((e) => e.payload?.$case === 'artifactUpdate');
  const last = events[events.length - 1];
  check(iWork >= 0 && iArt >= 0, `missing working status or artifact: ${seq}`);
  check(
    last.payload?.$case === 'statusUpdate' && stateOf(last) === TaskState.TASK_STATE_COMPLETED,
    `last event is not a COMPLETED status update: ${seq}`,
  );
  check(iWork < iArt && iArt < events.length - 1, `wrong order: ${seq}`);
  streamedTaskId = [...ids][0];
});

await step('get-task', async () => {
  need(streamedTaskId, 'streamed task');
  const t = await client.getTask({ id: streamedTaskId });
  check(t.id === streamedTaskId, `wrong task id ${t.id}`);
  check(t.status?.state === TaskState.TASK_STATE_COMPLETED, `state ${stateName(t.status?.state)}`);
  check((t.artifacts ?? []).length >= 1, 'completed streamed task has no artifact');
});

await step('list-tasks', async () => {
  need(completedTask, 'completed task');
  // Fully typed request (what TypeScript callers must write): status
  // TASK_STATE_UNSPECIFIED (0) is omitted from the JSON.
  const r = await client.listTasks({
    tenant: '',
    contextId: completedTask.contextId,
    status: TaskState.TASK_STATE_UNSPECIFIED,
    pageToken: '',
  });
  const ids = (r.tasks ?? []).map((t) => t.id);
  check(ids.length === 1 && ids[0] === completedTask.id, `contextId filter returned ${JSON.stringify(ids)}`);
});

await step('list-tasks-untyped', async () => {
  need(completedTask, 'completed task');
  // Plain-JS call without `status`: the SDK's ts-proto toJSON then sends
  // "status":"UNRECOGNIZED". The official Python server ignores unknown enum
  // values (protobuf ignore_unknown_fields), so a lenient server should too.
  const r = await client.listTasks({ contextId: completedTask.contextId });
  const ids = (r.tasks ?? []).map((t) => t.id);
  check(ids.length === 1 && ids[0] === completedTask.id, `contextId filter returned ${JSON.stringify(ids)}`);
});

await step('cancel-input-required', async () => {
  need(client, 'client');
  const r = await client.sendMessage({ message: userMessage('tck-input-required', 'need input') });
  check(!isMessage(r), 'expected a task, got a message');
  check(r.status?.state === TaskState.TASK_STATE_INPUT_REQUIRED, `state ${stateName(r.status?.state)}`);
  const c = await client.cancelTask({ id: r.id });
  check(c.id === r.id, `cancel returned task ${c.id}`);
  check(c.status?.state === TaskState.TASK_STATE_CANCELED, `cancel returned state ${stateName(c.status?.state)}`);
  const g = await client.getTask({ id: r.id });
  check(g.status?.state === TaskState.TASK_STATE_CANCELED, `GetTask after cancel: ${stateName(g.status?.state)}`);
});

await step('resubscribe', async () => {
  need(client, 'client');
  const t0 = Date.now();
  const r = await client.sendMessage({
    message: userMessage('test-resubscribe-message-id', 'long task'),
    configuration: { returnImmediately: true },
  });
  check(!isMessage(r), 'expected a task, got a message');
  check(
    [TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING].includes(r.status?.state),
    `non-blocking send returned state ${stateName(r.status?.state)}`,
  );
  check(Date.now() - t0 < 3000, 'non-blocking send took >= 3 s (blocked?)');
  const events = [];
  for await (const ev of client.resubscribeTask({ id: r.id })) {
    vlog('event:', describe(ev));
    events.push(ev);
  }
  const seq = events.map(describe).join(', ');
  check(events.length > 0, 'no events');
  check(events[0].payload?.$case === 'task', `first event is not the task: ${seq}`);
  check(stateOf(events[events.length - 1]) === TaskState.TASK_STATE_COMPLETED, `did not end COMPLETED: ${seq}`);
});

await step('push-config-crud', async () => {
  need(client, 'client');
  // The server under test accepts loopback webhooks (nothing listens on port 9).
  const r = await client.sendMessage({ message: userMessage('tck-input-required', 'push please') });
  check(!isMessage(r), 'expected a task, got a message');
  const hook = 'http://127.0.0.1:9/hook';
  const created = await client.createTaskPushNotificationConfig({
    taskId: r.id, id: '', tenant: '', url: hook, token: 'tok-js',
    authentication: { scheme: 'Bearer', credentials: 'x' },
  });
  vlog('created:', JSON.stringify(created));
  check(created.id, 'created config has no id');
  check(created.url === hook, `created url ${created.url}`);
  await client.createTaskPushNotificationConfig({ taskId: r.id, id: 'js-2', tenant: '', url: `${hook}2`, token: '' });
  const got = await client.getTaskPushNotificationConfig({ taskId: r.id, id: 'js-2', tenant: '' });
  check(got.url === `${hook}2`, `get returned ${JSON.stringify(got)}`);
  const listed = await client.listTaskPushNotificationConfig({ taskId: r.id, tenant: '', pageSize: 0, pageToken: '' });
  const ids = listed.configs.map((c) => c.id).sort();
  check(JSON.stringify(ids) === JSON.stringify([created.id, 'js-2'].sort()), `list returned ${JSON.stringify(ids)}`);
  await client.deleteTaskPushNotificationConfig({ taskId: r.id, id: 'js-2', tenant: '' });
  await client.deleteTaskPushNotificationConfig({ taskId: r.id, id: 'js-2', tenant: '' });
  const after = await client.listTaskPushNotificationConfig({ taskId: r.id, tenant: '', pageSize: 0, pageToken: '' });
  check(after.configs.length === 1, `list after delete returned ${after.configs.length} configs`);
});

console.log(`js_client: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
