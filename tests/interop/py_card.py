#!/usr/bin/env python3
"""Read an agent card with the OFFICIAL a2a-sdk card resolver (1.x or 0.3.x, whichever is
installed) and print what it understood of the security schemes, one line:
`ok <scheme>=<kind> ...` or `FAIL why`.

Usage: .venv-v1/bin/python tests/interop/py_card.py URL CARD_PATH
"""

import asyncio
import sys

import httpx

from a2a.client import A2ACardResolver


def kinds_v1(card):
    out = []
    for name, scheme in card.security_schemes.items():
        out.append(f'{name}={scheme.WhichOneof("scheme")}')
    return out


def kinds_v03(card):
    out = []
    for name, scheme in (card.security_schemes or {}).items():
        out.append(f'{name}={scheme.root.type}')
    return out


async def main(url, path):
    async with httpx.AsyncClient() as http:
        card = await A2ACardResolver(http, url, agent_card_path=path).get_agent_card()
    kinds = kinds_v1(card) if hasattr(card, 'security_requirements') else kinds_v03(card)
    if not kinds:
        print('FAIL the card has no security schemes')
        return 1
    print('ok', ' '.join(sorted(kinds)))
    return 0


if __name__ == '__main__':
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
