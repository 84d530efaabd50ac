#!/usr/bin/env python3
"""A client with a ledger, as the hosted guides' clients behave: it sends `count` events
(gpt-4o-mini, 10 input and 5 output tokens: 4,500 nano-USD each) in batches, and retries a
batch that was not answered 202 with the same request ids until it is, honouring
Retry-After, within a deadline. Loopback only; bounded in count and time.

Usage: ledger_client.py PORT KEY PREFIX COUNT [--batch N] [--deadline S] [--ledger FILE]
                        [--pace S] [--port-file FILE]
Prints one JSON line at the end: {"accepted": ids answered 202, "attempts": requests,
"codes": {status or reason: n}}; exits 1 if any batch was never accepted.
With --ledger, appends each answer as it comes ("status reason") so a test can watch.
--pace: seconds between a batch's acceptance and the next batch. --port-file: the port is
read from this file at each new connection (a server restarted on another port).
"""
import argparse
import http.client
import json
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("key")
    p.add_argument("prefix")
    p.add_argument("count", type=int)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--deadline", type=float, default=120)
    p.add_argument("--ledger")
    p.add_argument("--pace", type=float, default=0)
    p.add_argument("--port-file")
    a = p.parse_args()
    end = time.monotonic() + a.deadline
    codes, accepted, attempts = {}, 0, 0
    ledger = open(a.ledger, "a", buffering=1) if a.ledger else None
    conn = None
    for start in range(0, a.count, a.batch):
        ids = [f"{a.prefix}-{i}" for i in range(start, min(start + a.batch, a.count))]
        body = json.dumps({"events": [
            {"requestId": i, "provider": "openai", "model": "gpt-4o-mini",
             "inputTokens": 10, "outputTokens": 5, "feature": a.prefix} for i in ids]})
        while True:
            if time.monotonic() > end:
                print(json.dumps({"accepted": accepted, "attempts": attempts, "codes": codes}))
                return 1
            attempts += 1
            wait = 0.2
            try:
                if conn is None:
                    port = a.port
                    if a.port_file:
                        with open(a.port_file) as f:
                            port = int(f.read())
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("POST", "/v1/ingest", body,
                             {"X-API-Key": a.key, "Content-Type": "application/json"})
                r = conn.getresponse()
                answer = r.read()
                status = r.status
                reason = json.loads(answer).get("reason", "") if answer else ""
                if r.getheader("Retry-After"):
                    wait = min(float(r.getheader("Retry-After")), 1.0)
            except (OSError, http.client.HTTPException, ValueError):
                conn, status, reason = None, "error", "connection"
            tag = f"{status} {reason}".strip()
            codes[tag] = codes.get(tag, 0) + 1
            if ledger:
                ledger.write(tag + "\n")
            if status == 202:
                accepted += len(ids)
                time.sleep(a.pace)
                break
            time.sleep(wait)
    print(json.dumps({"accepted": accepted, "attempts": attempts, "codes": codes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
