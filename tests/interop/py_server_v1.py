#!/usr/bin/env python3
"""Official a2a-sdk 1.x SERVER running the `conformance` agent contract.

Serves JSON-RPC at `/` (protocol 1.0, plus 0.3 compat methods on the same
endpoint), with `--rest` also HTTP+JSON (1.0) under `/rest`, the agent card at
/.well-known/agent-card.json, streaming on,
in-memory task store. Used to develop the interop clients and, later, to test
our own Rust client against the official server.

Run with the 1.x venv:
    tests/interop/.venv-v1/bin/python tests/interop/py_server_v1.py --port 9999

Options:
    --host H          bind address (default 127.0.0.1)
    --port N          port (default 9999)
    --no-v03          disable the 0.3 compat layer (1.0 only)
    --log-requests    print every request's method, path, headers and body to stderr
    --with-security   add a bearer security scheme + requirement to the card
                      (not enforced; only to test how clients parse the card)
    --rest            serve the SDK's HTTP+JSON routes under /rest and list them in the
                      card (an `HTTP+JSON` interface after the JSON-RPC ones)
    --grpc N          also serve the SDK's gRPC handler (lf.a2a.v1, h2c) on port N and
                      list it in the card (a `GRPC` interface, bare host:port, last)
    --push            declare pushNotifications and deliver them with the SDK's
                      in-memory config store and sender (any webhook URL allowed)

Behaviour contract (chosen by the PREFIX of message.messageId):
    tck-complete-task            task completes with agent message "Hello from TCK"
    tck-input-required           task moves to input-required
    tck-stream-001               working, then a text artifact, then completed
    tck-stream-ordering-001      same as tck-stream-001
    tck-artifact-*               working, a text artifact "Hello from TCK", completed
    tck-stream-artifact-chunked  one artifact in three chunks (append, lastChunk), completed
    test-resubscribe-message-id  working, stays non-terminal for 4 s, then completed
    tck-message-response         answers with a bare Message, no task
    anything else                agent message echoing the user's text, task left
                                 in input-required
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import uuid

import uvicorn

from starlette.applications import Starlette

from a2a.helpers.proto_helpers import (
    get_message_text,
    new_task,
    new_text_message,
    new_text_part,
)
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import (
    create_agent_card_routes,
    create_jsonrpc_routes,
    create_rest_routes,
)
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Role,
    TaskState,
)


log = logging.getLogger('py_server_v1')

RESUBSCRIBE_DELAY_S = 4.0


class ConformanceAgent(AgentExecutor):
    """Implements the behaviour contract keyed on the messageId prefix."""

    async def execute(
        self, context: RequestContext, event_queue: EventQueue
    ) -> None:
        msg = context.message
        assert msg is not None
        mid = msg.message_id or ''
        text = get_message_text(msg)

        if mid.startswith('tck-message-response'):
            await event_queue.enqueue_event(
                new_text_message(
                    f'Message response: {text}',
                    context_id=context.context_id,
                    role=Role.ROLE_AGENT,
                )
            )
            return

        task = context.current_task
        if task is None:
            task = new_task(
                context.task_id,
                context.context_id,
                TaskState.TASK_STATE_SUBMITTED,
                history=[msg],
            )
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)

        def agent_msg(s: str):
            return updater.new_agent_message([new_text_part(s)])

        if mid.startswith('tck-complete-task'):
            await updater.start_work()
            await updater.complete(agent_msg('Hello from TCK'))
        elif mid.startswith('tck-input-required'):
            await updater.requires_input(agent_msg('Please provide more input'))
        elif mid.startswith('tck-artifact-'):
            await updater.start_work()
            await updater.add_artifact(
                [new_text_part('Hello from TCK')],
                artifact_id='text-artifact',
                name='text-artifact',
                last_chunk=True,
            )
            await updater.complete()
        elif mid.startswith('tck-stream-artifact-chunked'):
            await updater.start_work()
            chunks = ['Hello ', 'from ', 'TCK']
            for i, chunk in enumerate(chunks):
                await updater.add_artifact(
                    [new_text_part(chunk)],
                    artifact_id='chunked-artifact',
                    name='chunked-artifact',
                    append=i > 0,
                    last_chunk=i == len(chunks) - 1,
                )
            await updater.complete()
        elif mid.startswith(('tck-stream-001', 'tck-stream-ordering-001')):
            await updater.start_work(agent_msg('Working on it'))
            await asyncio.sleep(0.05)
            await updater.add_artifact(
                [new_text_part('Streamed artifact content')],
                name='result',
                last_chunk=True,
            )
            await asyncio.sleep(0.05)
            await updater.complete(agent_msg('Stream done'))
        elif mid.startswith('test-resubscribe-message-id'):
            await updater.start_work(agent_msg('Long task started'))
            await asyncio.sleep(RESUBSCRIBE_DELAY_S)
            await updater.complete(agent_msg('Long task done'))
        else:
            await updater.update_status(
                TaskState.TASK_STATE_INPUT_REQUIRED, agent_msg(text)
            )

    async def cancel(
        self, context: RequestContext, event_queue: EventQueue
    ) -> None:
        task = context.current_task
        task_id = context.task_id or (task.id if task else '')
        context_id = context.context_id or (task.context_id if task else '')
        updater = TaskUpdater(event_queue, task_id, context_id)
        await updater.cancel()


# Where `--rest` mounts the HTTP+JSON routes (and what the card names).
REST_PREFIX = '/rest'


def build_card(
    base_url: str,
    v03: bool,
    with_security: bool,
    push: bool = False,
    rest: bool = False,
    grpc_authority: str | None = None,
) -> AgentCard:
    interfaces = [
        AgentInterface(
            url=base_url, protocol_binding='JSONRPC', protocol_version='1.0'
        )
    ]
    if v03:
        interfaces.append(
            AgentInterface(
                url=base_url, protocol_binding='JSONRPC', protocol_version='0.3'
            )
        )
    if rest:
        interfaces.append(
            AgentInterface(
                url=f'{base_url}{REST_PREFIX.lstrip("/")}',
                protocol_binding='HTTP+JSON',
                protocol_version='1.0',
            )
        )
    if grpc_authority:
        interfaces.append(
            AgentInterface(
                url=grpc_authority, protocol_binding='GRPC', protocol_version='1.0'
            )
        )
    card = AgentCard(
        name='Conformance Agent (a2a-sdk 1.x)',
        description='Official a2a-sdk server running the conformance behaviour contract',
        version='1.0.0',
        supported_interfaces=interfaces,
        capabilities=AgentCapabilities(
            streaming=True, push_notifications=push
        ),
        default_input_modes=['text/plain'],
        default_output_modes=['text/plain'],
        skills=[
            AgentSkill(
                id='conformance',
                name='Conformance',
                description='Behaviour chosen by the messageId prefix',
                tags=['tck', 'conformance'],
                examples=['hello'],
            )
        ],
    )
    if with_security:
        from google.protobuf.json_format import ParseDict

        ParseDict(
            {
                'securitySchemes': {
                    'bearer': {
                        'httpAuthSecurityScheme': {
                            'scheme': 'Bearer',
                            'bearerFormat': 'JWT',
                        }
                    }
                },
                'securityRequirements': [{'schemes': {'bearer': {'list': []}}}],
            },
            card,
        )
    return card


class RequestLogger:
    """ASGI middleware printing method, path, headers and body of each request."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http':
            return await self.app(scope, receive, send)
        body = b''
        more = True
        messages = []
        while more:
            m = await receive()
            messages.append(m)
            body += m.get('body', b'')
            more = m.get('more_body', False)
        headers = '\n'.join(
            f'    {k.decode()}: {v.decode()}' for k, v in scope['headers']
        )
        qs = scope.get('query_string', b'').decode()
        print(
            f'--- {scope["method"]} {scope["path"]}{"?" + qs if qs else ""}\n'
            f'{headers}\n    body: {body.decode(errors="replace")}',
            file=sys.stderr,
            flush=True,
        )

        async def replay():
            if messages:
                return messages.pop(0)
            return await receive()

        return await self.app(scope, replay, send)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=9999)
    ap.add_argument('--no-v03', action='store_true')
    ap.add_argument('--log-requests', action='store_true')
    ap.add_argument('--with-security', action='store_true')
    ap.add_argument('--push', action='store_true')
    ap.add_argument('--rest', action='store_true')
    ap.add_argument('--grpc', type=int, default=None)
    args = ap.parse_args()

    logging.basicConfig(level=logging.WARNING)
    base_url = f'http://{args.host}:{args.port}/'
    grpc_authority = f'{args.host}:{args.grpc}' if args.grpc else None
    card = build_card(
        base_url,
        not args.no_v03,
        args.with_security,
        args.push,
        args.rest,
        grpc_authority,
    )
    push = {}
    if args.push:
        import httpx

        from a2a.server.tasks import (
            BasePushNotificationSender,
            InMemoryPushNotificationConfigStore,
        )

        store = InMemoryPushNotificationConfigStore()
        push = {
            'push_config_store': store,
            'push_sender': BasePushNotificationSender(httpx.AsyncClient(), store),
        }
    handler = DefaultRequestHandler(
        agent_executor=ConformanceAgent(),
        task_store=InMemoryTaskStore(),
        agent_card=card,
        **push,
    )
    routes = [
        *create_agent_card_routes(card),
        *create_jsonrpc_routes(
            handler, rpc_url='/', enable_v0_3_compat=not args.no_v03
        ),
    ]
    if args.rest:
        # Under a prefix: the SDK's REST routes would otherwise sit beside JSON-RPC's `/`.
        routes += create_rest_routes(handler, path_prefix=REST_PREFIX)
    app = Starlette(routes=routes)
    if args.log_requests:
        app = RequestLogger(app)
    print(f'py_server_v1 listening on {base_url}', flush=True)
    if not args.grpc:
        uvicorn.run(app, host=args.host, port=args.port, log_level='warning')
        return

    async def serve_both() -> None:
        import grpc  # noqa: PLC0415 (the grpc extra, only with --grpc)

        from a2a.server.request_handlers.grpc_handler import GrpcHandler  # noqa: PLC0415
        from a2a.types import a2a_pb2_grpc  # noqa: PLC0415

        server = grpc.aio.server()
        a2a_pb2_grpc.add_A2AServiceServicer_to_server(GrpcHandler(handler), server)
        server.add_insecure_port(grpc_authority)
        await server.start()
        config = uvicorn.Config(
            app, host=args.host, port=args.port, log_level='warning'
        )
        await uvicorn.Server(config).serve()

    asyncio.run(serve_both())


if __name__ == '__main__':
    main()
