#!/usr/bin/env python3
"""Drive an A2A server with the OFFICIAL a2a-sdk 1.x client (protocol 1.0), over
JSON-RPC or, with `--transport rest`, over HTTP+JSON, or, with `--transport grpc`, over
gRPC (the SDK's grpc extra, h2c to the card's bare host:port).

Usage:
    tests/interop/.venv-v1/bin/python tests/interop/py_client_v1.py URL [-v] [--transport rest|grpc]

URL is the agent's base URL (the card is read from URL/.well-known/agent-card.json).
Prints one line per step (`ok step` / `FAIL step: why`); exits 0 only if every
step passed. The server must run the `conformance` agent (behaviour keyed on
the messageId prefix, see README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid

from collections.abc import Awaitable, Callable

import httpx

from a2a.client import ClientConfig, ClientFactory
from a2a.client.transports.jsonrpc import JsonRpcTransport
from a2a.client.transports.rest import RestTransport
from a2a.types.a2a_pb2 import (
    AuthenticationInfo,
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetTaskPushNotificationConfigRequest,
    ListTaskPushNotificationConfigsRequest,
    GetTaskRequest,
    ListTasksRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    StreamResponse,
    SubscribeToTaskRequest,
    Task,
    TaskPushNotificationConfig,
    TaskState,
)


STEP_TIMEOUT_S = 30.0
VERBOSE = False
# The binding the factory must pick ('JSONRPC' or 'HTTP+JSON').
BINDING = 'JSONRPC'


class StepFailed(Exception):
    pass


def check(cond: bool, why: str) -> None:
    if not cond:
        raise StepFailed(why)


def state_name(state: int) -> str:
    return TaskState.Name(state)


def user_message(prefix: str, text: str, **kw) -> Message:
    return Message(
        role=Role.ROLE_USER,
        message_id=f'{prefix}-{uuid.uuid4()}',
        parts=[Part(text=text)],
        **kw,
    )


def texts_of(msg: Message) -> list[str]:
    return [p.text for p in msg.parts if p.HasField('text')]


def task_texts(task: Task) -> list[str]:
    out = []
    if task.status.HasField('message'):
        out += texts_of(task.status.message)
    for m in task.history:
        if m.role == Role.ROLE_AGENT:
            out += texts_of(m)
    return out


def kind(ev: StreamResponse) -> str:
    return ev.WhichOneof('payload') or '<empty>'


def describe(ev: StreamResponse) -> str:
    k = kind(ev)
    if k == 'task':
        return f'task({state_name(ev.task.status.state)})'
    if k == 'status_update':
        return f'status({state_name(ev.status_update.status.state)})'
    if k == 'artifact_update':
        return 'artifact'
    return k


def vprint(*a) -> None:
    if VERBOSE:
        print('   ', *a, flush=True)


class Runner:
    def __init__(self, url: str) -> None:
        self.url = url
        self.failed = 0
        self.total = 0
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(STEP_TIMEOUT_S))
        self.card = None
        self.blocking = None  # client with streaming=False
        self.streaming = None  # client with streaming=True
        self.completed_task: Task | None = None
        self.streamed_task_id: str | None = None

    async def step(self, name: str, fn: Callable[[], Awaitable[None]]) -> None:
        self.total += 1
        try:
            await asyncio.wait_for(fn(), STEP_TIMEOUT_S)
        except StepFailed as e:
            self.failed += 1
            print(f'FAIL {name}: {e}', flush=True)
        except asyncio.TimeoutError:
            self.failed += 1
            print(f'FAIL {name}: timed out after {STEP_TIMEOUT_S}s', flush=True)
        except Exception as e:  # noqa: BLE001
            self.failed += 1
            print(f'FAIL {name}: {type(e).__name__}: {e}', flush=True)
        else:
            print(f'ok {name}', flush=True)

    def need(self, attr: str) -> None:
        if getattr(self, attr) is None:
            raise StepFailed(f'skipped: needs {attr} from an earlier step')

    # --- steps -----------------------------------------------------------

    async def s_card(self) -> None:
        # Same path an application takes: the factory resolves the card at
        # URL/.well-known/agent-card.json and picks an interface from
        # supportedInterfaces (JSONRPC, preferring protocolVersion 1.0).
        bindings = [BINDING]
        channels = None
        if BINDING == 'GRPC':
            import grpc  # noqa: PLC0415 (the grpc extra, only for this transport)

            channels = grpc.aio.insecure_channel
        self.blocking = await ClientFactory(
            ClientConfig(
                streaming=False,
                httpx_client=self.http,
                supported_protocol_bindings=bindings,
                grpc_channel_factory=channels,
            )
        ).create_from_url(self.url)
        card = self.blocking._card  # noqa: SLF001
        vprint('card:', card.name, [
            (i.protocol_binding, i.protocol_version, i.url)
            for i in card.supported_interfaces
        ])
        check(bool(card.name), 'card has no name')
        check(card.capabilities.streaming, 'card does not declare streaming')
        check(
            any(
                i.protocol_binding == 'JSONRPC'
                and i.protocol_version.startswith('1.')
                for i in card.supported_interfaces
            ),
            'no JSONRPC 1.x entry in supportedInterfaces',
        )
        self.card = card
        self.streaming = ClientFactory(
            ClientConfig(
                streaming=True,
                httpx_client=self.http,
                supported_protocol_bindings=bindings,
                grpc_channel_factory=channels,
            )
        ).create(card)
        t = self.blocking._transport  # noqa: SLF001
        if BINDING == 'GRPC':
            from a2a.client.transports.grpc import GrpcTransport  # noqa: PLC0415

            expected = GrpcTransport
        else:
            expected = RestTransport if BINDING == 'HTTP+JSON' else JsonRpcTransport
        check(
            type(t) is expected,
            f'factory picked {type(t).__name__}, expected the 1.0 {expected.__name__}',
        )
        vprint('transport url:', getattr(t, 'url', None))

    async def send_blocking(self, msg: Message, **cfg) -> StreamResponse:
        self.need('blocking')
        req = SendMessageRequest(
            message=msg, configuration=SendMessageConfiguration(**cfg)
        )
        events = [ev async for ev in self.blocking.send_message(req)]
        check(len(events) == 1, f'expected 1 response, got {len(events)}')
        vprint('response:', describe(events[0]))
        return events[0]

    async def s_send_complete(self) -> None:
        ev = await self.send_blocking(
            user_message('tck-complete-task', 'hello'), return_immediately=False
        )
        check(kind(ev) == 'task', f'expected a task, got {kind(ev)}')
        task = ev.task
        check(bool(task.id), 'task has no id')
        check(bool(task.context_id), 'task has no contextId')
        check(
            task.status.state == TaskState.TASK_STATE_COMPLETED,
            f'state {state_name(task.status.state)}, expected COMPLETED',
        )
        check(
            any('Hello from TCK' in t for t in task_texts(task)),
            f'no agent message "Hello from TCK" (agent texts: {task_texts(task)})',
        )
        self.completed_task = task

    async def s_send_message_response(self) -> None:
        ev = await self.send_blocking(user_message('tck-message-response', 'hi'))
        check(kind(ev) == 'message', f'expected a bare message, got {kind(ev)}')
        check(ev.message.role == Role.ROLE_AGENT, 'message role is not agent')
        check(bool(ev.message.message_id), 'message has no messageId')

    async def s_send_echo(self) -> None:
        ev = await self.send_blocking(user_message('interop-echo', 'echo me 42'))
        check(kind(ev) == 'task', f'expected a task, got {kind(ev)}')
        check(
            ev.task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED,
            f'state {state_name(ev.task.status.state)}, expected INPUT_REQUIRED',
        )
        check(
            any('echo me 42' in t for t in task_texts(ev.task)),
            f'agent did not echo the text (agent texts: {task_texts(ev.task)})',
        )

    async def s_stream(self) -> None:
        self.need('streaming')
        req = SendMessageRequest(
            message=user_message('tck-stream-001', 'stream please')
        )
        events = []
        async for ev in self.streaming.send_message(req):
            vprint('event:', describe(ev))
            events.append(ev)
        # The loop ending means the server closed the stream.
        seq = [describe(e) for e in events]
        check(events, 'no events')
        ids = {
            e.task.id if kind(e) == 'task'
            else e.status_update.task_id if kind(e) == 'status_update'
            else e.artifact_update.task_id
            for e in events if kind(e) != 'message'
        }
        check(len(ids) == 1, f'events carry different task ids: {ids}')
        first_k = kind(events[0])
        check(
            first_k in ('task', 'status_update'),
            f'first event is {first_k}, expected task or status update ({seq})',
        )
        try:
            i_work = next(
                i for i, e in enumerate(events)
                if (kind(e) == 'status_update' and e.status_update.status.state == TaskState.TASK_STATE_WORKING)
                or (kind(e) == 'task' and e.task.status.state == TaskState.TASK_STATE_WORKING)
            )
            i_art = next(i for i, e in enumerate(events) if kind(e) == 'artifact_update')
        except StopIteration:
            raise StepFailed(f'missing working status or artifact: {seq}') from None
        last = events[-1]
        check(
            kind(last) == 'status_update'
            and last.status_update.status.state == TaskState.TASK_STATE_COMPLETED,
            f'last event is not a COMPLETED status update: {seq}',
        )
        check(i_work < i_art < len(events) - 1, f'wrong order: {seq}')
        art = events[i_art].artifact_update.artifact
        check(
            any(p.HasField('text') and p.text for p in art.parts),
            'artifact has no text part',
        )
        self.streamed_task_id = ids.pop()

    async def s_get_task(self) -> None:
        self.need('streamed_task_id')
        task = await self.blocking.get_task(GetTaskRequest(id=self.streamed_task_id))
        vprint('task:', state_name(task.status.state), len(task.artifacts), 'artifacts')
        check(task.id == self.streamed_task_id, f'wrong task id {task.id}')
        check(
            task.status.state == TaskState.TASK_STATE_COMPLETED,
            f'state {state_name(task.status.state)}, expected COMPLETED',
        )
        check(len(task.artifacts) >= 1, 'completed streamed task has no artifact')

    async def s_get_task_history(self) -> None:
        self.need('completed_task')
        task = await self.blocking.get_task(
            GetTaskRequest(id=self.completed_task.id, history_length=1)
        )
        check(len(task.history) <= 1, f'historyLength=1 returned {len(task.history)} messages')

    async def s_list_tasks(self) -> None:
        self.need('completed_task')
        resp = await self.blocking.list_tasks(ListTasksRequest())
        ids = [t.id for t in resp.tasks]
        vprint('listed:', len(ids), 'tasks; total_size', resp.total_size)
        check(self.completed_task.id in ids, 'completed task missing from ListTasks')
        if self.streamed_task_id:
            check(self.streamed_task_id in ids, 'streamed task missing from ListTasks')
        resp = await self.blocking.list_tasks(
            ListTasksRequest(context_id=self.completed_task.context_id)
        )
        ids = [t.id for t in resp.tasks]
        check(ids == [self.completed_task.id], f'contextId filter returned {ids}')

    async def s_cancel(self) -> None:
        ev = await self.send_blocking(user_message('tck-input-required', 'need input'))
        check(kind(ev) == 'task', f'expected a task, got {kind(ev)}')
        check(
            ev.task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED,
            f'state {state_name(ev.task.status.state)}, expected INPUT_REQUIRED',
        )
        task_id = ev.task.id
        task = await self.blocking.cancel_task(CancelTaskRequest(id=task_id))
        check(task.id == task_id, f'cancel returned task {task.id}')
        check(
            task.status.state == TaskState.TASK_STATE_CANCELED,
            f'cancel returned state {state_name(task.status.state)}',
        )
        task = await self.blocking.get_task(GetTaskRequest(id=task_id))
        check(
            task.status.state == TaskState.TASK_STATE_CANCELED,
            f'GetTask after cancel: state {state_name(task.status.state)}',
        )

    async def s_resubscribe(self) -> None:
        self.need('streaming')
        t0 = time.monotonic()
        ev = await self.send_blocking(
            user_message('test-resubscribe-message-id', 'long task'),
            return_immediately=True,
        )
        check(kind(ev) == 'task', f'expected a task, got {kind(ev)}')
        check(
            ev.task.status.state in (TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING),
            f'non-blocking send returned state {state_name(ev.task.status.state)}',
        )
        check(time.monotonic() - t0 < 3.0, 'non-blocking send took >= 3 s (blocked?)')
        task_id = ev.task.id
        events = []
        async for e in self.streaming.subscribe(SubscribeToTaskRequest(id=task_id)):
            vprint('event:', describe(e))
            events.append(e)
        seq = [describe(e) for e in events]
        check(events, 'no events')
        check(kind(events[0]) == 'task', f'first event is {kind(events[0])}, expected task ({seq})')
        check(events[0].task.id == task_id, 'first event is a different task')
        check(
            events[0].task.status.state not in (TaskState.TASK_STATE_COMPLETED,),
            'task already completed when subscribing (too slow?)',
        )
        last = events[-1]
        last_state = (
            last.status_update.status.state if kind(last) == 'status_update'
            else last.task.status.state if kind(last) == 'task' else None
        )
        check(
            last_state == TaskState.TASK_STATE_COMPLETED,
            f'stream did not end in COMPLETED: {seq}',
        )
        task = await self.blocking.get_task(GetTaskRequest(id=task_id))
        check(
            task.status.state == TaskState.TASK_STATE_COMPLETED,
            f'GetTask after resubscribe: {state_name(task.status.state)}',
        )

    async def s_push_configs(self) -> None:
        # The server under test must accept loopback webhooks (nothing listens there).
        ev = await self.send_blocking(user_message('tck-input-required', 'push please'))
        check(kind(ev) == 'task', f'expected a task, got {kind(ev)}')
        task_id = ev.task.id
        hook = 'http://127.0.0.1:9/hook'
        created = await self.blocking.create_task_push_notification_config(
            TaskPushNotificationConfig(
                task_id=task_id, url=hook, token='tok-1',
                authentication=AuthenticationInfo(scheme='Bearer', credentials='s3cret'),
            )
        )
        vprint('created:', created)
        check(created.id != '', 'created config has no id')
        check(created.url == hook, f'created url {created.url}')
        check(created.token == 'tok-1', f'created token {created.token}')
        second = await self.blocking.create_task_push_notification_config(
            TaskPushNotificationConfig(task_id=task_id, id='second', url=hook + '2')
        )
        check(second.id == 'second', f'second config id {second.id}')
        got = await self.blocking.get_task_push_notification_config(
            GetTaskPushNotificationConfigRequest(task_id=task_id, id='second')
        )
        check(got.url == hook + '2', f'get returned url {got.url}')
        listed = await self.blocking.list_task_push_notification_configs(
            ListTaskPushNotificationConfigsRequest(task_id=task_id)
        )
        ids = sorted(c.id for c in listed.configs)
        check(ids == sorted([created.id, 'second']), f'list returned {ids}')
        await self.blocking.delete_task_push_notification_config(
            DeleteTaskPushNotificationConfigRequest(task_id=task_id, id='second')
        )
        # Idempotent.
        await self.blocking.delete_task_push_notification_config(
            DeleteTaskPushNotificationConfigRequest(task_id=task_id, id='second')
        )
        listed = await self.blocking.list_task_push_notification_configs(
            ListTaskPushNotificationConfigsRequest(task_id=task_id)
        )
        ids = [c.id for c in listed.configs]
        check(ids == [created.id], f'list after delete returned {ids}')
        try:
            await self.blocking.get_task_push_notification_config(
                GetTaskPushNotificationConfigRequest(task_id=task_id, id='second')
            )
        except Exception as e:  # noqa: BLE001
            vprint('get after delete:', type(e).__name__, e)
        else:
            raise StepFailed('get of a deleted config succeeded')

    async def run(self) -> int:
        try:
            await self.step('card', self.s_card)
            await self.step('send-blocking-complete', self.s_send_complete)
            await self.step('send-message-response', self.s_send_message_response)
            await self.step('send-echo-input-required', self.s_send_echo)
            await self.step('stream', self.s_stream)
            await self.step('get-task', self.s_get_task)
            await self.step('get-task-history-length', self.s_get_task_history)
            await self.step('list-tasks', self.s_list_tasks)
            await self.step('cancel-input-required', self.s_cancel)
            await self.step('resubscribe', self.s_resubscribe)
            await self.step('push-config-crud', self.s_push_configs)
        finally:
            await self.http.aclose()
        print(f'py_client_v1: {self.total - self.failed} passed, {self.failed} failed', flush=True)
        return 1 if self.failed else 0


def main() -> None:
    global VERBOSE, BINDING
    ap = argparse.ArgumentParser(description='a2a-sdk 1.x client interop test')
    ap.add_argument('url')
    ap.add_argument('-v', '--verbose', action='store_true')
    ap.add_argument('--transport', choices=['jsonrpc', 'rest', 'grpc'], default='jsonrpc')
    args = ap.parse_args()
    VERBOSE = args.verbose
    BINDING = {'rest': 'HTTP+JSON', 'grpc': 'GRPC'}.get(args.transport, 'JSONRPC')
    sys.exit(asyncio.run(Runner(args.url).run()))


if __name__ == '__main__':
    main()
