"""Training throughput (images/s) of torchvision's ResNet-18 on 32 px CIFAR-like images
upscaled to 224 px on the device: the workflow's own training step (in-memory split,
batches cut and upscaled on the device, bf16 autocast and channels_last on CUDA).

    python benchmarks/bench_train.py [--batch 256] [--steps 50] [--size 224]

Goal on one H100: >= 7,000 images/s at 224 px. On a CPU the number is only a sanity check.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import write

from latentgraph.nets.data import TensorSplit
from latentgraph.nets.models import build_model
from latentgraph.nets.training import TrainSettings, configure_torch, make_optimizer, resolve_device, train_one_epoch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    import torch

    device = resolve_device(args.device)
    if device.type == "cpu":  # keep the CPU sanity check short
        args.steps, args.batch = min(args.steps, 3), min(args.batch, 16)
    configure_torch(device)
    rng = np.random.default_rng(0)
    n = args.batch * args.steps
    split = TensorSplit(rng.normal(size=(n, 3, 32, 32)).astype(np.float32), rng.integers(0, 100, n), np.arange(n))
    torch.manual_seed(0)
    model = build_model("resnet18", 100, "imagenet", 64).to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    s = TrainSettings(epochs=1, batch_size=args.batch, lr=0.1, device=str(device), amp=True)
    opt = make_optimizer(model, s)
    warm = TensorSplit(split.images[: 3 * args.batch], split.labels[: 3 * args.batch], split.sample_ids[: 3 * args.batch])
    train_one_epoch(model, opt, warm, s, args.size, device, 0, 0, progress=False)  # warm-up (cudnn autotune)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    train_one_epoch(model, opt, split, s, args.size, device, 0, 1, progress=False)
    if device.type == "cuda":
        torch.cuda.synchronize()
    sec = time.perf_counter() - t0
    ips = n / sec
    name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
    result = {"device": name, "batch": args.batch, "steps": args.steps, "size": args.size, "images_per_s": ips,
              "bf16": device.type == "cuda", "channels_last": device.type == "cuda", "torch": torch.__version__}
    md = (f"ResNet-18 training step at {args.size} px (32 px inputs upscaled on the device), batch {args.batch}, "
          f"{args.steps} steps on {name}: **{ips:,.0f} images/s**"
          + ("" if device.type == "cuda" else " (CPU sanity check only; the goal is for one H100)") + ".")
    write("bench_train", result, md)


if __name__ == "__main__":
    main()
