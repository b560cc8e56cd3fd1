"""Batches from a flops-fit server: ``GET /v1/datasets/{name}/batches`` with
``Accept: application/octet-stream`` (the arrays little-endian, back to back, described by the
``x-batch-arrays`` header, e.g. ``inputs=int32[16,128]; targets=int32[16,128]``).

The server addresses examples by their position in the split's seeded order, so fetching
``[step·B, (step+1)·B)`` with the run's seed gives exactly the examples flops-fit's own trainer
sees at that step — both frameworks train on the same data. Replace ``FlopsFitData`` with your
own loader to train on data flops-fit does not serve (keep ``info``, ``batch``).
"""
import json
import queue
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import torch

BATCH_LIMIT = 256  # the server's most examples per request (BATCH_LIMIT_CAP)
EVAL_SPLITS = ("validation", "val", "test")


class DataError(Exception):
    """The data server refused a request; ``status`` is its HTTP status (404 unknown dataset...)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class FlopsFitData:
    def __init__(self, base_url, timeout_s=120):
        self.base = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._info = {}

    def _get(self, path, accept="application/json"):
        request = urllib.request.Request(self.base + path, headers={"accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return response.read(), response.headers
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            try:
                detail = json.loads(detail).get("detail", detail)
            except ValueError:
                pass
            raise DataError(error.code, f"data server {self.base}: {detail}") from None
        except urllib.error.URLError as error:
            raise DataError(503, f"data server {self.base} unreachable: {error.reason}") from None

    def info(self, name):
        """The dataset's metadata (``GET /v1/datasets/{name}``), cached."""
        if name not in self._info:
            body, _ = self._get("/v1/datasets/" + urllib.parse.quote(name, safe=""))
            self._info[name] = json.loads(body)
        return self._info[name]

    def batch(self, name, split, seed, offset, count, context=None):
        """Examples ``[offset, offset + count)`` of the split's seeded order, as ``(x, y)``:
        text ``(B, T)`` int64 inputs and targets; images ``(B, H, W, C)`` float32 and ``(B,)``
        int64 labels."""
        parts = []
        while count > 0:
            n = min(count, BATCH_LIMIT)
            query = {"split": split, "seed": seed, "offset": offset, "limit": n}
            if context is not None:
                query["context"] = context
            path = (f"/v1/datasets/{urllib.parse.quote(name, safe='')}/batches?"
                    + urllib.parse.urlencode(query))
            body, headers = self._get(path, accept="application/octet-stream")
            parts.append(_decode(body, headers["x-batch-arrays"]))
            offset, count = offset + n, count - n
        x = torch.cat([p[0] for p in parts])
        y = torch.cat([p[1] for p in parts])
        return x, y


    def steps(self, name, split, seed, batch_size, steps, context=None):
        """The training batches of ``steps`` steps: step s holds examples
        ``[s·B, (s+1)·B)``. Fetched a few steps per request (≤ 256 examples; the server's cost
        is mostly per request) on a background thread, ahead of the training loop."""
        per_fetch = max(1, BATCH_LIMIT // batch_size)

        def fetch(chunk):
            first = chunk * per_fetch
            n = min(per_fetch, steps - first)
            return self.batch(name, split, seed, first * batch_size, n * batch_size, context)

        chunks = (steps + per_fetch - 1) // per_fetch
        for x, y in prefetch(fetch, chunks):
            for i in range(0, x.shape[0], batch_size):
                yield x[i:i + batch_size], y[i:i + batch_size]


def _decode(body, described):
    """``inputs=int32[4,16]; targets=int32[4,16]`` → the two tensors (ints as int64)."""
    arrays, offset = [], 0
    for item in described.split(";"):
        _name, dtype, dims = re.match(r"\s*(\w+)=(\w+)\[([\d,]*)\]", item).groups()
        shape = [int(d) for d in dims.split(",") if d]
        n = 1
        for d in shape:
            n *= d
        kind = torch.float32 if dtype == "float32" else torch.int32
        t = torch.frombuffer(bytearray(body[offset:offset + 4 * n]), dtype=kind).reshape(shape)
        arrays.append(t.long() if kind == torch.int32 else t)
        offset += 4 * n
    return arrays[0], arrays[1]


def prefetch(make_batch, steps, depth=4):
    """Yield ``make_batch(step)`` for every step, fetched ``depth`` steps ahead on a thread."""
    q = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run():
        try:
            for step in range(steps):
                if stop.is_set():
                    return
                q.put((step, make_batch(step), None))
        except Exception as error:  # noqa: BLE001 - handed to the consumer
            q.put((None, None, error))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        for _ in range(steps):
            _step, batch, error = q.get()
            if error is not None:
                raise error
            yield batch
    finally:
        stop.set()
        while not q.empty():
            q.get_nowait()
