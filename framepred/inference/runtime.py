"""How one call of a model runs (``predict``, or ``predict_many`` for models that predict several
frames per call): precision, torch.compile and CUDA graphs, chosen once per Predictor.

* ``precision="bf16"``: the network runs under ``torch.autocast`` with bfloat16, on the CPU (fast on
  CPUs with AVX-512 BF16 or AMX) and on CUDA. Autocast runs convolutions and matrix products in
  bfloat16 and keeps precision-sensitive operations (sampling, normalisation) in float32, and the
  model's own float32 state (DMVFN's flow and mask) stays float32, so errors do not accumulate over
  the blocks. The output is float32 either way.
* ``compile=True``: ``torch.compile`` (inductor) compiles ``predict``; the first call per input size
  pays the compilation (tens of seconds), later calls are faster on a GPU. Models whose graph depends
  on the input values (DMVFN's sample/threshold routing) compile in pieces.
* On the CPU, a batch of frames is split over the torch threads, one single-threaded part per
  thread, run concurrently: many of a video model's operations are too small or too memory-bound to
  keep two cores busy within one frame, so frames side by side use the cores better than threads
  inside one frame. Only models whose output per frame does not depend on the rest of the batch or
  on a random draw per call (``export_problem()`` is None, or not defined) are split.
* ``cuda_graphs=True`` (CUDA only): the first call for an input shape captures ``predict`` as a CUDA
  graph; later calls of that shape copy the input into the captured buffer and replay it, which
  removes the per-kernel launch cost of a fixed-size stream (a rollout, a folder of one frame size).
  Only models without host-side decisions (``export_problem()`` is None) can be captured.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from functools import partial

import torch
from torch import nn

from framepred.errors import UsageError
from framepred.models.interface import predict_frames

PRECISIONS = ("fp32", "bf16")
MAX_CAPTURED_SHAPES = 4  # each CUDA graph keeps its own input, output and workspace memory


def check_runtime(device: torch.device, precision: str, compile: bool, cuda_graphs: bool) -> None:
    """Refuse combinations that cannot run, before any model is built or frame is read."""
    if precision not in PRECISIONS:
        raise UsageError(f"unknown precision {precision!r}: choose {' or '.join(PRECISIONS)}")
    if cuda_graphs and device.type != "cuda":
        raise UsageError(f"--cuda-graphs needs a CUDA device, got {device}; leave it out on the CPU")
    if cuda_graphs and compile:
        raise UsageError("give --compile or --cuda-graphs, not both (compiled graphs manage their own)")


class Runtime:
    """Runs one call of the model on padded ``B x T x 3 x H x W`` tensors the way the options say,
    returning ``B x K x 3 x H x W`` (K = the model's frames per call)."""

    def __init__(
        self,
        model: nn.Module,
        device: torch.device,
        precision: str = "fp32",
        compile: bool = False,
        cuda_graphs: bool = False,
    ) -> None:
        check_runtime(device, precision, compile, cuda_graphs)
        problem = getattr(model, "export_problem", lambda: None)()
        if cuda_graphs and problem is not None:
            raise UsageError(f"--cuda-graphs cannot capture this model: {problem}")
        # Compiled code runs its own threads; splitting a batch would compile each part's size too.
        self.split_batches = device.type == "cpu" and problem is None and not compile
        self.device = device
        self.precision = precision
        self.compile = compile
        self.cuda_graphs = cuda_graphs
        predict: Callable[[torch.Tensor], torch.Tensor] = partial(predict_frames, model)
        if compile:
            predict = torch.compile(predict)
        self._predict = predict
        self._graphs: OrderedDict[tuple, _CapturedGraph] = OrderedDict()

    def _autocast(self) -> AbstractContextManager:
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    def _run(self, context: torch.Tensor) -> torch.Tensor:
        with self._autocast():
            return self._predict(context)

    def __call__(self, context: torch.Tensor) -> torch.Tensor:
        threads = torch.get_num_threads()
        if self.split_batches and context.shape[0] > 1 and threads > 1:
            return self._run_split(context, threads).float()
        if not self.cuda_graphs:
            return self._run(context).float()
        key = (tuple(context.shape), context.dtype, context.stride())
        graph = self._graphs.get(key)
        if graph is None:
            graph = _CapturedGraph(self._run, context)
            self._graphs[key] = graph
            if len(self._graphs) > MAX_CAPTURED_SHAPES:
                self._graphs.popitem(last=False)
        else:
            self._graphs.move_to_end(key)
        return graph.replay(context).float()

    def _run_split(self, context: torch.Tensor, threads: int) -> torch.Tensor:
        """Parts of the batch side by side, each on its share of the threads (see the module doc)."""
        parts = context.tensor_split(min(threads, context.shape[0]))
        share = max(1, threads // len(parts))

        def run_part(part: torch.Tensor) -> torch.Tensor:
            torch.set_num_threads(share)  # this thread's OpenMP team; the caller's is restored below
            with torch.inference_mode():  # grad mode is per thread
                return self._run(part)

        try:
            with ThreadPoolExecutor(len(parts), thread_name_prefix="framepred-frames") as pool:
                outputs = list(pool.map(run_part, parts))
        finally:
            torch.set_num_threads(threads)
        return torch.cat(outputs)


class _CapturedGraph:
    """One CUDA graph of ``function`` for one input shape, with its static input and output."""

    def __init__(self, function: Callable[[torch.Tensor], torch.Tensor], example: torch.Tensor) -> None:
        self.input = example.clone()
        side = torch.cuda.Stream(example.device)
        side.wait_stream(torch.cuda.current_stream(example.device))
        with torch.cuda.stream(side):
            for _ in range(2):  # warm-up outside the capture: cuDNN picks algorithms, caches fill
                function(self.input)
        torch.cuda.current_stream(example.device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.output = function(self.input)

    def replay(self, context: torch.Tensor) -> torch.Tensor:
        self.input.copy_(context)
        self.graph.replay()
        return self.output.clone()  # the next replay overwrites the static output
