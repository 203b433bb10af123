#!/usr/bin/env python3
"""One task kept in the `conformance` agent's input-required loop over one connection:
unprefixed 1.0 follow-ups with `configuration.historyLength: 0`. Prints, as JSON, the
median time of a follow-up (over --samples of them) when the history holds about each of
--at messages, and the bytes of the task's messages (its history, as GetTask returns it).

    benches/long_task.py URL [--at 10,500,2000] [--samples 20]
"""
import argparse
import http.client
import json
import statistics
import time
import urllib.parse
import uuid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--at", default="10,500,2000")
    ap.add_argument("--samples", type=int, default=20)
    args = ap.parse_args()
    at = [int(n) for n in args.at.split(",")]
    u = urllib.parse.urlparse(args.url)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    headers = {"content-type": "application/json", "A2A-Version": "1.0"}

    def call(method, params):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        conn.request("POST", u.path or "/", body, headers)
        r = json.loads(conn.getresponse().read())
        if "error" in r:
            raise SystemExit(f"{method}: {r['error']}")
        return r["result"]

    def send(task_id):
        m = {"messageId": str(uuid.uuid4()), "role": "ROLE_USER",
             "parts": [{"text": "another turn of a long conversation"}]}
        if task_id:
            m["taskId"] = task_id
        r = call("SendMessage", {"message": m, "configuration": {"historyLength": 0}})
        t = r["task"]
        assert t["status"]["state"] == "TASK_STATE_INPUT_REQUIRED", t["status"]
        return t["id"]

    # Warm-up on a task of its own: the first follow-ups of a fresh server pay for
    # statements prepared on each new pooled connection, which is not the task's length.
    warm = send(None)
    for _ in range(40):
        send(warm)
    task_id = send(None)
    messages = 2  # each turn: the user's message and the agent's
    out = {"task_id": task_id, "ms": {}}
    for target in at:
        # The samples span 2 * samples messages, centred on the target.
        while messages + args.samples < target:
            send(task_id)
            messages += 2
        times = []
        for _ in range(args.samples):
            t0 = time.perf_counter()
            send(task_id)
            times.append((time.perf_counter() - t0) * 1000)
            messages += 2
        out["ms"][str(target)] = round(statistics.median(times), 3)
    task = call("GetTask", {"id": task_id})
    out["messages"] = len(task.get("history", []))
    out["message_bytes"] = sum(len(json.dumps(m, separators=(",", ":")).encode()) for m in task["history"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
