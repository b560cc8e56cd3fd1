#!/usr/bin/python3
"""A trainer that speaks flops-fit's train contract, in PyTorch (``docs/train_contract.md``).

    /usr/bin/python3 examples/pytorch/worker.py --data http://127.0.0.1:8000 [--port 8100]
        [--model gpt.py --model my_model.py] [--threads 2] [--device auto|cpu|cuda]
        [--max-size 512]

Serves, with the standard library's HTTP server:

- ``GET /v1/families`` and ``GET /v1/families/{name}?dataset=…&config=…``: every size the
  family modules build (flops-fit's candidate widths up to ``--max-size``), with the parameter
  count read off the module and the exact training FLOPs per sample (counting.py);
- ``POST /v1/train``: one run (train.py), answered as JSON, or as NDJSON progress events ending
  with ``{"type": "result", …}`` when the request accepts ``application/x-ndjson``;
- ``GET /healthz``.

Batches come from the flops-fit server at ``--data`` (data.py), so both frameworks train on the
same examples. Runs go one at a time (later requests wait). Prints ``{"port": N}`` once listening.
"""
import argparse
import importlib.util
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv):
    ap = argparse.ArgumentParser(description="PyTorch worker for flops-fit's train contract.")
    ap.add_argument("--data", required=True, help="flops-fit server serving /v1/datasets")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8100, help="0 picks a free port")
    ap.add_argument("--model", action="append", help="family module (default: gpt.py, vit.py)")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (default: all)")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--max-size", type=int, default=512, help="largest size the tables list")
    return ap.parse_args(argv)


def load_module(path):
    path = path if os.path.isabs(path) else (
        path if os.path.exists(path) else os.path.join(HERE, path))
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(f"family_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for attr in ("FAMILY", "make_model"):
        if not hasattr(module, attr):
            raise SystemExit(f"{path} defines no {attr} (see family.py)")
    return module


class Worker:
    def __init__(self, args):
        import torch

        from data import FlopsFitData
        self.torch = torch
        if args.threads > 0:
            torch.set_num_threads(args.threads)
        cuda = torch.cuda.is_available()
        if args.device == "cuda" and not cuda:
            raise SystemExit("--device cuda: no CUDA device is available")
        self.device = torch.device("cuda" if args.device != "cpu" and cuda else "cpu")
        self.data = FlopsFitData(args.data)
        self.max_size = args.max_size
        modules = [load_module(p) for p in (args.model or ["gpt.py", "vit.py"])]
        self.families = {m.FAMILY["name"]: m for m in modules}
        self.tables = {}
        self.table_lock = threading.Lock()
        self.train_lock = threading.Lock()

    def table(self, name, dataset=None, config=None):
        """The family's FamilyDescription for a dataset and fixed config fields (cached)."""
        from counting import count_params, skip_init, training_flops_per_sample
        from family import ConfigError, DataSpec, candidate_sizes
        from train import RequestError, sample_input, units_per_sample
        module = self.families[name]
        key = (name, dataset, json.dumps(config, sort_keys=True))
        with self.table_lock:
            if key in self.tables:
                return self.tables[key]
            data = DataSpec(self.data.info(dataset)) if dataset else DataSpec()
            if dataset and data.modality != module.FAMILY["modality"]:
                raise RequestError(422, "dataset", f"Family {name} trains on "
                                   f"{module.FAMILY['modality']} data; {dataset} is {data.modality}.")
            sizes, units = [], None
            candidates = getattr(module, "CANDIDATE_SIZES", None) or candidate_sizes(self.max_size)
            for size in candidates:
                try:
                    with skip_init():
                        model = module.make_model(size, dict(config or {}), data)
                except ConfigError as error:
                    if error.field in ("size", "heads", "mlp_ratio"):
                        continue  # this size does not build; the next may
                    raise RequestError(422, f"config.{error.field}", str(error)) from None
                total, non_embedding = count_params(model)
                flops = training_flops_per_sample(
                    model, sample_input(model, module.FAMILY["modality"], data))
                sizes.append({"size": size, "params": total, "flops_per_sample": flops,
                              "non_embedding_params": non_embedding,
                              **({"config": model.config} if hasattr(model, "config") else {})})
                units = units or units_per_sample(model, module.FAMILY)
                del model
            if not sizes:
                raise RequestError(422, "config", f"Family {name} builds none of its sizes.")
            sizes.sort(key=lambda s: s["params"])
            table = {"name": name, "size_param": module.FAMILY["size_param"],
                     "data_unit": module.FAMILY["data_unit"], "units_per_sample": units,
                     "sizes": sizes}
            self.tables[key] = table
            return table


def make_handler(worker):
    from data import DataError
    from train import Cancelled, RequestError, plan_run, train_run

    class Handler(BaseHTTPRequestHandler):
        server_version = "flops-fit-pytorch-worker/1"

        def log_message(self, fmt, *args):  # one line per request on stderr
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

        def send_json(self, status, body, content_type="application/json"):
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def problem(self, status, detail, field=None):
            body = {"type": "about:blank", "title": "Invalid request" if status == 422 else
                    "Error", "status": status, "detail": detail}
            if field is not None:
                body["field"] = field
            self.send_json(status, body, "application/problem+json")

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            try:
                if url.path == "/healthz":
                    return self.send_json(200, {
                        "status": "ok", "device": str(worker.device),
                        "framework": f"pytorch-{worker.torch.__version__}",
                        "families": sorted(worker.families)})
                if url.path == "/v1/families" or url.path.startswith("/v1/families/"):
                    config = None
                    if "config" in query:
                        try:
                            config = json.loads(query["config"])
                        except ValueError as error:
                            return self.problem(422, f"config is not JSON: {error}", "config")
                        if not isinstance(config, dict):
                            return self.problem(422, "config must be a JSON object.", "config")
                    dataset = query.get("dataset")
                    if url.path == "/v1/families":
                        names = [n for n in worker.families if not dataset or
                                 worker.families[n].FAMILY["modality"] ==
                                 worker.data.info(dataset).get("modality")]
                        return self.send_json(200, {"families": [
                            worker.table(n, dataset, config) for n in names]})
                    name = urllib.parse.unquote(url.path[len("/v1/families/"):])
                    if name not in worker.families:
                        return self.problem(404, f"Unknown model family {name}; known: "
                                            f"{', '.join(worker.families)}.", "name")
                    return self.send_json(200, worker.table(name, dataset, config))
                return self.problem(404, f"No route for GET {url.path}.")
            except RequestError as error:
                return self.problem(error.status, str(error), error.field)
            except DataError as error:
                return self.problem(422 if error.status == 404 else error.status, str(error),
                                    "dataset")

        def do_POST(self):
            if urllib.parse.urlsplit(self.path).path != "/v1/train":
                return self.problem(404, f"No route for POST {self.path}.")
            try:
                length = int(self.headers.get("content-length") or 0)
                request = json.loads(self.rfile.read(length) or b"null")
            except ValueError as error:
                return self.problem(400, f"The body is not JSON: {error}")
            try:
                with worker.train_lock:
                    plan = plan_run(request, worker.families, worker.data)
                    stream = "application/x-ndjson" in (self.headers.get("accept") or "")
                    return self.train(plan, stream)
            except RequestError as error:
                return self.problem(error.status, str(error), error.field)

        def train(self, plan, stream):
            deadline = plan["request"].get("timeout_s")
            started = time.monotonic()
            gone = threading.Event()

            def cancelled():
                return gone.is_set() or (deadline is not None and
                                         time.monotonic() - started > float(deadline))

            def send_line(event):
                try:
                    self.wfile.write((json.dumps(event) + "\n").encode())
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    gone.set()  # the client went away: stop training

            if stream:
                self.send_response(200)
                self.send_header("content-type", "application/x-ndjson")
                self.send_header("cache-control", "no-cache")
                self.end_headers()
            try:
                result = train_run(plan, worker.data, worker.device,
                                   on_progress=send_line if stream else None, cancelled=cancelled)
            except Cancelled:
                status, detail = 504 if not gone.is_set() else 499, "Run cancelled."
                return send_line({"type": "error", "status": status, "detail": detail}) \
                    if stream else self.problem(status, detail)
            except Exception as error:  # noqa: BLE001 - reported to the client, retryable
                detail = f"Training failed: {type(error).__name__}: {error}"
                status = getattr(error, "status", 500)
                return send_line({"type": "error", "status": status, "detail": detail}) \
                    if stream else self.problem(status, detail)
            if stream:
                send_line({"type": "result", **result})
            else:
                self.send_json(200, result)

    return Handler


def main(argv):
    args = parse_args(argv)
    # Debian's torch links OpenBLAS's pthread pool, which ignores torch.set_num_threads, and
    # OpenMP threads that spin fight it (see ../shared/reference/README.md): set both first.
    if args.threads > 0:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
        os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    sys.path.insert(0, HERE)
    worker = Worker(args)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(worker))
    server.daemon_threads = True
    print(json.dumps({"port": server.server_address[1], "device": str(worker.device),
                      "families": sorted(worker.families)}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])
