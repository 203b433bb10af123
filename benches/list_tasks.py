#!/usr/bin/env python3
"""Times ListTasks over one keep-alive connection: a page of 50 with no filter and with
the status filter (TASK_STATE_COMPLETED). Prints, as JSON, the median time of each over
--samples calls (after 5 unmeasured ones) and the totalSize each answered.

    benches/list_tasks.py URL [--samples 50]
"""
import argparse
import http.client
import json
import statistics
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--samples", type=int, default=50)
    args = ap.parse_args()
    u = urllib.parse.urlparse(args.url)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    headers = {"content-type": "application/json", "A2A-Version": "1.0"}

    def call(params):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": params})
        conn.request("POST", u.path or "/", body, headers)
        r = json.loads(conn.getresponse().read())
        if "error" in r:
            raise SystemExit(f"ListTasks: {r['error']}")
        return r["result"]

    out = {}
    for name, params in [("all", {"pageSize": 50}),
                         ("completed", {"pageSize": 50, "status": "TASK_STATE_COMPLETED"})]:
        for _ in range(5):
            r = call(params)
        times = []
        for _ in range(args.samples):
            t0 = time.perf_counter()
            r = call(params)
            times.append((time.perf_counter() - t0) * 1000)
        assert len(r["tasks"]) == min(50, r["totalSize"]), (len(r["tasks"]), r["totalSize"])
        out[name] = {"ms": round(statistics.median(times), 3), "total": r["totalSize"]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
