#!/usr/bin/env python3
"""Drive an A2A server with the OFFICIAL a2a-sdk 0.3.x client (protocol 0.3), over
JSON-RPC or, with `--transport rest`, over HTTP+JSON (0.3 ProtoJSON under `/v1/`).

Usage:
    tests/interop/.venv-v03/bin/python tests/interop/py_client_v03.py URL [-v] [--transport rest]

Uses message/send, message/stream, tasks/get, tasks/cancel, tasks/resubscribe
(0.3 has no tasks/list). Prints one line per step (`ok step` / `FAIL step: why`);
exits 0 only if every step passed.
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
from a2a.types import (
    GetTaskPushNotificationConfigParams,
    Message,
    MessageSendConfiguration,
    Part,
    PushNotificationAuthenticationInfo,
    PushNotificationConfig,
    Role,
    Task,
    TaskArtifactUpdateEvent,
    TaskIdParams,
    TaskPushNotificationConfig,
    TaskQueryParams,
    TaskState,
    TaskStatusUpdateEvent,
    TextPart,
)


STEP_TIMEOUT_S = 30.0
VERBOSE = False
# The transport the factory must pick ('JSONRPC' or 'HTTP+JSON'), from the card's
# url/preferredTransport/additionalInterfaces.
TRANSPORT = 'JSONRPC'


class StepFailed(Exception):
    pass


def check(cond: bool, why: str) -> None:
    if not cond:
        raise StepFailed(why)


def user_message(prefix: str, text: str) -> Message:
    return Message(
        role=Role.user,
        message_id=f'{prefix}-{uuid.uuid4()}',
        parts=[Part(root=TextPart(text=text))],
    )


def texts_of(msg: Message) -> list[str]:
    return [p.root.text for p in msg.parts if isinstance(p.root, TextPart)]


def task_texts(task: Task) -> list[str]:
    out = []
    if task.status.message:
        out += texts_of(task.status.message)
    for m in task.history or []:
        if m.role == Role.agent:
            out += texts_of(m)
    return out


def describe(ev) -> str:
    """ev is a ClientEvent (task, update) or a Message."""
    if isinstance(ev, Message):
        return 'message'
    task, upd = ev
    if upd is None:
        return f'task({task.status.state.value})'
    if isinstance(upd, TaskStatusUpdateEvent):
        return f'status({upd.status.state.value}{",final" if upd.final else ""})'
    if isinstance(upd, TaskArtifactUpdateEvent):
        return 'artifact'
    return type(upd).__name__


def snapshot(ev):
    """The SDK's task tracker mutates the yielded Task in place as later events
    arrive, so keep a deep copy of each event as it was when received."""
    if isinstance(ev, Message):
        return ev.model_copy(deep=True)
    task, upd = ev
    return (task.model_copy(deep=True), upd.model_copy(deep=True) if upd else None)


def vprint(*a) -> None:
    if VERBOSE:
        print('   ', *a, flush=True)


class Runner:
    def __init__(self, url: str) -> None:
        self.url = url
        self.failed = 0
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(STEP_TIMEOUT_S))
        self.blocking = None
        self.streaming = None
        self.streamed_task_id: str | None = None

    async def step(self, name: str, fn: Callable[[], Awaitable[None]]) -> None:
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

    async def s_card(self) -> None:
        # ClientFactory.connect resolves URL/.well-known/agent-card.json and
        # picks the transport from url / preferredTransport / additionalInterfaces.
        self.blocking = await ClientFactory.connect(
            self.url,
            ClientConfig(
                streaming=False,
                httpx_client=self.http,
                supported_transports=[TRANSPORT],
            ),
        )
        card = self.blocking._card  # noqa: SLF001
        vprint('card:', card.name, card.url, card.preferred_transport, card.protocol_version)
        check(bool(card.name), 'card has no name')
        check(bool(card.url), 'card has no url')
        check(bool(card.capabilities.streaming), 'card does not declare streaming')
        self.streaming = ClientFactory(
            ClientConfig(
                streaming=True,
                httpx_client=self.http,
                supported_transports=[TRANSPORT],
            )
        ).create(card)
        t = self.blocking._transport  # noqa: SLF001
        expected = RestTransport if TRANSPORT == 'HTTP+JSON' else JsonRpcTransport
        check(type(t) is expected, f'factory picked {type(t).__name__}, expected {expected.__name__}')
        vprint('transport url:', t.url)

    async def send_blocking(self, msg: Message, **cfg):
        self.need('blocking')
        events = [
            ev async for ev in self.blocking.send_message(
                msg, configuration=MessageSendConfiguration(**cfg)
            )
        ]
        check(len(events) == 1, f'expected 1 response, got {len(events)}')
        vprint('response:', describe(events[0]))
        return events[0]

    async def s_send_complete(self) -> None:
        ev = await self.send_blocking(
            user_message('tck-complete-task', 'hello'), blocking=True
        )
        check(isinstance(ev, tuple), f'expected a task, got {describe(ev)}')
        task = ev[0]
        check(bool(task.id) and bool(task.context_id), 'task has no id/contextId')
        check(
            task.status.state == TaskState.completed,
            f'state {task.status.state.value}, expected completed',
        )
        check(
            any('Hello from TCK' in t for t in task_texts(task)),
            f'no agent message "Hello from TCK" (agent texts: {task_texts(task)})',
        )

    async def s_send_message_response(self) -> None:
        ev = await self.send_blocking(user_message('tck-message-response', 'hi'))
        check(isinstance(ev, Message), f'expected a bare message, got {describe(ev)}')
        check(ev.role == Role.agent, 'message role is not agent')

    async def s_send_echo(self) -> None:
        ev = await self.send_blocking(user_message('interop-echo', 'echo me 42'))
        check(isinstance(ev, tuple), f'expected a task, got {describe(ev)}')
        task = ev[0]
        check(
            task.status.state == TaskState.input_required,
            f'state {task.status.state.value}, expected input-required',
        )
        check(
            any('echo me 42' in t for t in task_texts(task)),
            f'agent did not echo the text (agent texts: {task_texts(task)})',
        )

    async def s_stream(self) -> None:
        self.need('streaming')
        events = []
        async for ev in self.streaming.send_message(
            user_message('tck-stream-001', 'stream please')
        ):
            vprint('event:', describe(ev))
            events.append(snapshot(ev))
        seq = [describe(e) for e in events]
        check(events, 'no events')
        check(all(isinstance(e, tuple) for e in events), f'unexpected message: {seq}')
        ids = {e[0].id for e in events}
        check(len(ids) == 1, f'events belong to different tasks: {ids}')
        upds = [e[1] for e in events]
        try:
            i_work = next(
                i for i, e in enumerate(events)
                if (isinstance(e[1], TaskStatusUpdateEvent) and e[1].status.state == TaskState.working)
                or (e[1] is None and e[0].status.state == TaskState.working)
            )
            i_art = next(i for i, u in enumerate(upds) if isinstance(u, TaskArtifactUpdateEvent))
        except StopIteration:
            raise StepFailed(f'missing working status or artifact: {seq}') from None
        last = upds[-1]
        check(
            isinstance(last, TaskStatusUpdateEvent) and last.status.state == TaskState.completed,
            f'last event is not a completed status update: {seq}',
        )
        check(last.final, f'last status update has final=false: {seq}')
        check(i_work < i_art < len(events) - 1, f'wrong order: {seq}')
        self.streamed_task_id = ids.pop()

    async def s_get_task(self) -> None:
        self.need('streamed_task_id')
        task = await self.blocking.get_task(TaskQueryParams(id=self.streamed_task_id))
        vprint('task:', task.status.state.value, len(task.artifacts or []), 'artifacts')
        check(task.id == self.streamed_task_id, f'wrong task id {task.id}')
        check(task.status.state == TaskState.completed, f'state {task.status.state.value}')
        check(len(task.artifacts or []) >= 1, 'completed streamed task has no artifact')

    async def s_cancel(self) -> None:
        ev = await self.send_blocking(user_message('tck-input-required', 'need input'))
        check(isinstance(ev, tuple), f'expected a task, got {describe(ev)}')
        task = ev[0]
        check(
            task.status.state == TaskState.input_required,
            f'state {task.status.state.value}, expected input-required',
        )
        canceled = await self.blocking.cancel_task(TaskIdParams(id=task.id))
        check(canceled.id == task.id, f'cancel returned task {canceled.id}')
        check(
            canceled.status.state == TaskState.canceled,
            f'cancel returned state {canceled.status.state.value}',
        )
        got = await self.blocking.get_task(TaskQueryParams(id=task.id))
        check(got.status.state == TaskState.canceled, f'tasks/get after cancel: {got.status.state.value}')

    async def s_resubscribe(self) -> None:
        self.need('streaming')
        t0 = time.monotonic()
        ev = await self.send_blocking(
            user_message('test-resubscribe-message-id', 'long task'), blocking=False
        )
        check(isinstance(ev, tuple), f'expected a task, got {describe(ev)}')
        task = ev[0]
        check(
            task.status.state in (TaskState.submitted, TaskState.working),
            f'non-blocking send returned state {task.status.state.value}',
        )
        check(time.monotonic() - t0 < 3.0, 'non-blocking send took >= 3 s (blocked?)')
        events = []
        async for e in self.streaming.resubscribe(TaskIdParams(id=task.id)):
            vprint('event:', describe(e))
            events.append(snapshot(e))
        seq = [describe(e) for e in events]
        check(events, 'no events')
        check(events[0][1] is None, f'first event is not the task: {seq}')
        check(events[0][0].id == task.id, 'first event is a different task')
        check(events[0][0].status.state != TaskState.completed, 'task already completed when subscribing')
        last_task, last_upd = events[-1]
        last_state = last_upd.status.state if isinstance(last_upd, TaskStatusUpdateEvent) else last_task.status.state
        check(last_state == TaskState.completed, f'stream did not end in completed: {seq}')
        got = await self.blocking.get_task(TaskQueryParams(id=task.id))
        check(got.status.state == TaskState.completed, f'tasks/get after resubscribe: {got.status.state.value}')

    async def s_push_config(self) -> None:
        # The 0.3 client sets and gets callbacks (it has no list/delete); the server under
        # test accepts loopback webhooks (nothing listens on port 9).
        ev = await self.send_blocking(user_message('tck-input-required', 'push please'))
        check(isinstance(ev, tuple), f'expected a task, got {describe(ev)}')
        task = ev[0]
        hook = 'http://127.0.0.1:9/hook03'
        set_ = await self.blocking.set_task_callback(
            TaskPushNotificationConfig(
                task_id=task.id,
                push_notification_config=PushNotificationConfig(
                    id='cb-1', url=hook, token='tok-03',
                    authentication=PushNotificationAuthenticationInfo(
                        schemes=['Bearer'], credentials='s3cret'
                    ),
                ),
            )
        )
        vprint('set:', set_)
        check(set_.task_id == task.id, f'set returned task {set_.task_id}')
        check(set_.push_notification_config.url == hook, 'set returned another url')
        got = await self.blocking.get_task_callback(
            GetTaskPushNotificationConfigParams(id=task.id, push_notification_config_id='cb-1')
        )
        check(got.push_notification_config.id == 'cb-1', f'get returned id {got.push_notification_config.id}')
        check(got.push_notification_config.token == 'tok-03', 'get lost the token')

    async def run(self) -> int:
        steps = [
            ('card', self.s_card),
            ('send-blocking-complete', self.s_send_complete),
            ('send-message-response', self.s_send_message_response),
            ('send-echo-input-required', self.s_send_echo),
            ('stream', self.s_stream),
            ('get-task', self.s_get_task),
            ('cancel-input-required', self.s_cancel),
            ('resubscribe', self.s_resubscribe),
            ('push-config-set-get', self.s_push_config),
        ]
        try:
            for name, fn in steps:
                await self.step(name, fn)
        finally:
            await self.http.aclose()
        print(f'py_client_v03: {len(steps) - self.failed} passed, {self.failed} failed', flush=True)
        return 1 if self.failed else 0


def main() -> None:
    global VERBOSE, TRANSPORT
    ap = argparse.ArgumentParser(description='a2a-sdk 0.3.x client interop test')
    ap.add_argument('url')
    ap.add_argument('-v', '--verbose', action='store_true')
    ap.add_argument('--transport', choices=['jsonrpc', 'rest'], default='jsonrpc')
    args = ap.parse_args()
    VERBOSE = args.verbose
    TRANSPORT = 'HTTP+JSON' if args.transport == 'rest' else 'JSONRPC'
    sys.exit(asyncio.run(Runner(args.url).run()))


if __name__ == '__main__':
    main()
