"""Reads the edge's binary bus records (schemas/README.md "Bus records") independently of
the C++ decoder, so the e2e tests check the documented layout, not only a round trip.

read_kcat(path): the records kcat wrote with -f '%K:%k%S:%s' -> [(key, value bytes)].
decode(value): the event as a dict with the canonical JSON field names.
"""

TAG = 0xC1
TEXTS = ["workspace", "request_id", "provider", "model", "model_raw", "endpoint_tag",
         "prompt_version", "project", "project_raw", "environment", "user_id", "tenant_id",
         "api_key_id"]
COUNTS = ["input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens",
          "cache_write_1h_tokens", "reasoning_tokens"]
DATA_MODES = ["real", "test", "demo"]
STATUSES = ["success", "error", "timeout", "cancelled"]


def read_kcat(path):
    data = open(path, "rb").read()
    at, rows = 0, []
    while at < len(data):
        fields = []
        for _ in range(2):
            colon = data.index(b":", at)
            n = int(data[at:colon])
            fields.append(data[colon + 1:colon + 1 + n])
            at = colon + 1 + n
        rows.append((fields[0].decode(), fields[1]))
    return rows


class _Reader:
    def __init__(self, b):
        self.b, self.at = b, 0

    def byte(self):
        self.at += 1
        return self.b[self.at - 1]

    def varint(self):
        v, shift = 0, 0
        while True:
            c = self.byte()
            v |= (c & 0x7F) << shift
            shift += 7
            if not c & 0x80:
                return v

    def signed(self):
        z = self.varint()
        return (z >> 1) ^ -(z & 1)

    def text(self):
        n = self.varint()
        self.at += n
        return self.b[self.at - n:self.at].decode("utf-8")


def decode(value):
    assert value[0] == TAG, "not a binary bus record: first byte %r" % value[:1]
    r = _Reader(value[1:])
    e = {}
    for name in TEXTS:
        e[name] = r.text()
    e["data_mode"] = DATA_MODES[r.byte()]
    for name in COUNTS:
        e[name] = r.varint()
    bits = r.byte()
    assert bits & ~31 == 0, bits
    if bits & 1:
        e["total_tokens"] = r.varint()
    if bits & 2:
        e["latency_ms"] = r.varint()
    if bits & 4:
        e["status"] = STATUSES[r.byte()]
    if bits & 8:
        e["estimated_cost_nano_usd"] = r.signed()
    e["occurred_at_ms"] = r.signed()
    e["received_at_ms"] = r.signed()
    e["occurred_at_defaulted"] = bool(bits & 16)
    e["warnings"] = r.varint()
    assert r.at == len(r.b), "bytes after the last field"
    return e
