"""CPU per request of an HTTP client with 32 requests in flight: httpx (default pool, a bigger pool) against aiohttp.

    .venv/bin/python scripts/bench_http_clients.py

Why the web app's door to Rasa (bot/rasa_client.py) and scripts/bench_load.py's citizens use aiohttp. The server is a
bare asyncio one on loopback that answers like Rasa's REST channel after 20 ms; only the client's CPU is counted.
Measured 2026-12-02 on the 2-core machine: httpx 6.45 ms (default pool) / 5.57 ms (256 kept alive), aiohttp 0.57 ms.
"""
import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import httpx

SERVER = r'''
import asyncio, json
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            n = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"): n = int(line.split(b":")[1])
            if n: await reader.readexactly(n)
            await asyncio.sleep(0.02)  # Rasa's time
            body = json.dumps([{"text": "好的，请问欠您工资的老板叫什么名字？", "buttons": []}]).encode()
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
    except Exception:
        writer.close()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 47123)
    async with srv: await srv.serve_forever()
asyncio.run(main())
'''
URL = "http://127.0.0.1:47123/webhooks/rest/webhook"
BODY = {"sender": "web:" + "a" * 64, "message": "三万五"}
N, C = 3000, 32


async def run_httpx(limits: httpx.Limits) -> None:
    async with httpx.AsyncClient(trust_env=False, limits=limits) as c:
        async def one() -> None:
            r = await c.post(URL, json=BODY)
            r.json()
        await go(one)


async def run_aiohttp() -> None:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as s:
        async def one() -> None:
            async with s.post(URL, json=BODY) as r:
                await r.json()
        await go(one)


async def go(one: Callable[[], Awaitable[None]]) -> None:
    sem = asyncio.Semaphore(C)

    async def w() -> None:
        async with sem:
            await one()
    await asyncio.gather(*(w() for _ in range(200)))  # warm
    t, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(w() for _ in range(N)))
    print(f"  {(time.process_time()-t)/N*1e3:.2f} ms CPU/request, {N/(time.perf_counter()-wall):.0f} req/s")


CLIENTS: list[tuple[str, Callable[[], Awaitable[None]]]] = [
    ("httpx default pool", lambda: run_httpx(httpx.Limits())),
    ("httpx 256 keepalive", lambda: run_httpx(httpx.Limits(max_connections=256, max_keepalive_connections=256))),
    ("aiohttp", run_aiohttp),
]

srv = subprocess.Popen([sys.executable, "-c", SERVER])
time.sleep(1)
for name, coro in CLIENTS:
    print(name)
    asyncio.run(coro())
srv.kill()
