"""A PBX for the demo and the benchmark: realistic calls as signed telephony events over HTTP.

Arrivals are a Poisson process at the given rate. Each caller has a patience (exponential,
45 s on average); the operator free longest answers after a ring of 2-8 s once they are free
(after the previous call and 10-40 s of after-call work); a caller whose patience runs out
first hangs up (abandoned). Talk times are log-normal (about 3 minutes, a long tail). Most
callers are end users of the directory, some unknown numbers, a few withheld.

Only loopback addresses are called: this is a load generator.
"""

import heapq
import http.client
import ipaddress
import json
import math
import random
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from routing import signatures

EVENTS_PATH = "/api/v1/telephony/events/"


class NotLoopback(ValueError):
    pass


@dataclass(order=True)
class Planned:
    offset: float  # seconds from the start
    seq: int
    body: dict = field(compare=False)


def plan_calls(
    *,
    rng: random.Random,
    rate_per_second: float,
    seconds: float,
    start: datetime,
    numbers: list[str],
    lines: list[str],
    operators: list[str],
    prefix: str = "sim",
) -> list[Planned]:
    """Every event of every call arriving in `seconds`, in the order they happen."""
    if not operators or not lines:
        raise ValueError("the simulator needs at least one operator extension and one line")
    free_at = [(rng.uniform(0, 20), name) for name in operators]
    heapq.heapify(free_at)
    planned: list[Planned] = []
    t, seq, n = 0.0, 0, 0

    def add(offset: float, body: dict) -> None:
        nonlocal seq
        body["at"] = (start + timedelta(seconds=offset)).isoformat()
        planned.append(Planned(offset, seq, body))
        seq += 1

    while True:
        t += rng.expovariate(rate_per_second)
        if t >= seconds:
            break
        n += 1
        call_id = f"{prefix}-{int(start.timestamp())}-{n}"
        roll = rng.random()
        caller = (
            "anonymous"
            if roll < 0.04
            else f"+3933{rng.randrange(10**7, 10**8)}"
            if roll < 0.2 or not numbers
            else rng.choice(numbers)
        )
        add(t, {"event": "newCall", "call_id": call_id, "from": caller, "to": rng.choice(lines)})
        patience = rng.expovariate(1 / 45)
        ready, operator = heapq.heappop(free_at)
        answer = max(t, ready) + rng.uniform(2, 8)
        if answer - t > patience:
            add(t + patience, {"event": "hangup", "call_id": call_id, "cause": "abandoned"})
            heapq.heappush(free_at, (ready, operator))
            continue
        talk = min(rng.lognormvariate(math.log(150), 0.6), 1800)
        add(answer, {"event": "answer", "call_id": call_id, "operator": operator})
        add(answer + talk, {"event": "hangup", "call_id": call_id, "cause": "normal"})
        heapq.heappush(free_at, (answer + talk + rng.uniform(10, 40), operator))
    planned.sort()
    return planned


def loopback_target(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as error:
        raise NotLoopback(f"cannot resolve {host!r}") from error
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        raise NotLoopback(
            f"{host!r} is not a loopback address: the simulator calls only this machine"
        )
    return host, parts.port or 80


class Sender:
    """Signs and posts events on one kept-alive connection."""

    def __init__(self, url: str, secret: str) -> None:
        self.host, self.port = loopback_target(url)
        self.secret = secret
        self.connection: http.client.HTTPConnection | None = None

    def post(self, body: dict) -> tuple[int, dict]:
        raw = json.dumps(body).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "Host": self.host,
            signatures.TIMESTAMP_HEADER: stamp,
            signatures.SIGNATURE_HEADER: signatures.sign(self.secret, stamp, raw),
        }
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.connection.request("POST", EVENTS_PATH, body=raw, headers=headers)
                response = self.connection.getresponse()
                text = response.read()
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
                continue
            try:
                return response.status, json.loads(text or b"{}")
            except ValueError:
                return response.status, {}
        raise AssertionError("unreachable")


def replay(planned: list[Planned], sender: Sender, *, report=print, every: float = 10.0) -> Counter:
    """Send the events in real time (each when its offset comes); returns the answers by
    status and state."""
    answers: Counter = Counter()
    started = time.monotonic()
    next_report = every
    for item in planned:
        delay = started + item.offset - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        status, body = sender.post(item.body)
        answers[f"{status} {body.get('state') or body.get('code', '')}".strip()] += 1
        if time.monotonic() - started >= next_report:
            next_report += every
            report(f"{int(time.monotonic() - started)} s: " + _summary(answers))
    return answers


def _summary(answers: Counter) -> str:
    return ", ".join(f"{key}: {n}" for key, n in sorted(answers.items()))
