"""PyTorch reference for the circle loss (docs/design.md section 1), for the GPU check.

Two jobs, on the benchmark problems that gpu_check dumped (inputs and the provider's outputs):
1. Timing: the loss written the way a PyTorch user would (dense N×M tensors, autograd for the
   gradient: Keras mode), float32 on the GPU; forward alone and forward + backward, CUDA events.
2. Accuracy: a float64 evaluation of the same loss, in row chunks so that N×M float64 temporaries fit,
   compared with the provider's float32 loss and gradients (normwise relative error).

Options are the library's defaults: gamma 80, margin 0.4, remove_diagonal, sum_over_batch_size.

    python3 torch_reference.py --dump DIR [--json OUT.json]
"""
import argparse
import glob
import json
import os
import sys
import time

import numpy as np
import torch

GAMMA = 80.0
MARGIN = 0.4
NEG_FILL = -1e30  # a finite "minus infinity": rows without positives give loss 0 and gradient 0, no NaN


def row_terms(x, y, r, ry, row0, gamma=GAMMA, margin=MARGIN, remove_diagonal=True):
    """Per-row loss l_i for query rows row0.. (x holds those rows), against all references."""
    s = x @ r.T
    pos = y[:, None] == ry[None, :]
    neg = ~pos
    if remove_diagonal:
        rows = torch.arange(x.shape[0], device=x.device)
        cols = rows + row0
        keep = cols < r.shape[0]
        pos[rows[keep], cols[keep]] = False  # positional diagonal, also for a separate reference set
    d = torch.clamp(1 - s, min=0)
    lp = -gamma * torch.clamp(margin + d, min=0) * (margin - d)
    ln = gamma * torch.clamp(1 + margin - d, min=0) * (1 - margin - d)
    fill = torch.tensor(NEG_FILL, dtype=s.dtype, device=s.device)
    lse_p = torch.logsumexp(torch.where(pos, lp, fill), dim=1)
    lse_n = torch.logsumexp(torch.where(neg, ln, fill), dim=1)
    z = lse_p + lse_n
    # softplus(z) = log(1 + e^z) without F.softplus's linear cut-off above 20 (an error of e^-20).
    return torch.logaddexp(z, torch.zeros_like(z))


def reduce_sum_over_batch(l):
    mask = (l > 0).to(l.dtype)
    count = mask.sum()
    return torch.where(count > 0, (l * mask).sum() / torch.clamp(count, min=1), torch.zeros_like(count))


def torch_loss(x, y, r, ry):
    """The whole loss in one piece (what the timing measures). r is x for the self case."""
    return reduce_sum_over_batch(row_terms(x, y, r, ry, 0))


def median_ms(fn, reps):
    times = []
    cuda = torch.cuda.is_available()
    for k in range(reps + 2):
        if cuda:
            a = torch.cuda.Event(enable_timing=True)
            b = torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            a.record()
            fn()
            b.record()
            torch.cuda.synchronize()
            ms = a.elapsed_time(b)
        else:
            t0 = time.perf_counter()
            fn()
            ms = (time.perf_counter() - t0) * 1e3
        if k >= 2:
            times.append(ms)
    times.sort()
    return times[len(times) // 2]


def time_torch(x32, y, r32, ry, self_refs, reps):
    def forward():
        with torch.no_grad():
            return torch_loss(x32, y, x32 if self_refs else r32, ry)

    def forward_backward():
        xg = x32.detach().requires_grad_(True)
        rg = None if self_refs else r32.detach().requires_grad_(True)
        loss = torch_loss(xg, y, xg if self_refs else rg, ry)
        loss.backward()
        return loss

    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    fwd = median_ms(forward, reps)
    fb = median_ms(forward_backward, reps)
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")
    return fwd, fb, peak


def reference64(x, y, r, ry, self_refs, chunk):
    """float64 loss and gradients in row chunks (the reduction's count comes from a first pass)."""
    x64 = x.double()
    r64 = None if self_refs else r.double()
    refs = x64 if self_refs else r64
    with torch.no_grad():
        l_all = torch.cat([row_terms(x64[i:i + chunk], y[i:i + chunk], refs, ry, i)
                           for i in range(0, x.shape[0], chunk)])
    count = float((l_all > 0).sum().item())
    xg = x64.clone().requires_grad_(True)
    rg = None if self_refs else r64.clone().requires_grad_(True)
    total = 0.0
    for i in range(0, x.shape[0], chunk):
        l = row_terms(xg[i:i + chunk], y[i:i + chunk], xg if self_refs else rg, ry, i)
        part = (l * (l > 0).double()).sum() / count if count > 0 else l.sum() * 0
        part.backward()
        total += part.item()
    return total, xg.grad, (None if self_refs else rg.grad)


def normwise(a, ref):
    scale = ref.abs().max().item()
    diff = (a.double() - ref.double()).abs().max().item()
    return diff / scale if scale > 0 else diff


def load(path, dtype, shape):
    return torch.from_numpy(np.fromfile(path, dtype=dtype).reshape(shape))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    ap.add_argument("--json")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False  # plain fp32 products, as the provider's default
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name_of_device = torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu"
    print(f"torch {torch.__version__}, {name_of_device}", flush=True)
    results = {}
    # gpu_check writes NAME.meta.json (n, m, d, self) beside the arrays of each benchmark problem.
    for meta_path in sorted(glob.glob(os.path.join(args.dump, "*.meta.json"))):
        meta = json.load(open(meta_path))
        name, n, m, d, self_refs = meta["name"], meta["n"], meta["m"], meta["d"], bool(meta["self"])
        base = os.path.join(args.dump, name)
        x = load(base + ".x.f32", np.float32, (n, d)).to(dev)
        y = load(base + ".y.i32", np.int32, (n,)).to(dev).long()
        r = None if self_refs else load(base + ".r.f32", np.float32, (m, d)).to(dev)
        ry = y if self_refs else load(base + ".ry.i32", np.int32, (m,)).to(dev).long()
        ours_loss = float(np.fromfile(base + ".loss.f32", dtype=np.float32)[0])
        ours_dx = load(base + ".dx.f32", np.float32, (n, d)).to(dev)
        ours_dr = None if self_refs else load(base + ".dr.f32", np.float32, (m, d)).to(dev)

        try:
            fwd, fb, peak = time_torch(x, y, r, ry, self_refs, args.reps)
        except RuntimeError as e:  # out of memory included
            print(f"{name}: torch failed: {e}")
            fwd = fb = peak = float("nan")
        if dev.type == "cuda":
            torch.cuda.empty_cache()
        loss64, dx64, dr64 = reference64(x, y, r, ry, self_refs, chunk=512 if self_refs else 128)
        if dev.type == "cuda":
            torch.cuda.empty_cache()
        with torch.no_grad():
            t32 = float(torch_loss(x, y, x if self_refs else r, ry).item())
        res = {
            "torch_fwd_ms": fwd,
            "torch_fwdbwd_ms": fb,
            "torch_peak_gib": peak,
            "loss_f64": loss64,
            "loss_torch_f32": t32,
            "loss_ours_f32": ours_loss,
            "loss_rel_err_ours": abs(ours_loss - loss64) / abs(loss64) if loss64 else abs(ours_loss),
            "loss_rel_err_torch32": abs(t32 - loss64) / abs(loss64) if loss64 else abs(t32),
            "dx_err_ours": normwise(ours_dx, dx64),
            "dr_err_ours": None if self_refs else normwise(ours_dr, dr64),
        }
        results[name] = res
        print(f"TORCH {name} fwd_ms={fwd:.3f} fwdbwd_ms={fb:.3f} peak_gib={peak:.1f} "
              f"loss64={loss64:.6f} ours={ours_loss:.6f} loss_err={res['loss_rel_err_ours']:.2e} "
              f"dx_err={res['dx_err_ours']:.2e} dr_err={res['dr_err_ours'] if res['dr_err_ours'] is None else format(res['dr_err_ours'], '.2e')}",
              flush=True)
    if not results:
        print("TORCH no benchmark dumps found in " + args.dump)
        return 1
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    bad = [k for k, v in results.items()
           if not (v["loss_rel_err_ours"] < 1e-4 and v["dx_err_ours"] < 1e-3
                   and (v["dr_err_ours"] is None or v["dr_err_ours"] < 1e-3))]
    if bad:
        print("TORCH accuracy check FAILED for: " + ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
