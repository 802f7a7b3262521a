"""The bench/train.ts BST in PyTorch, for a same-machine, same-run speed comparison (issue 8).

Architecture (items-only variant of lib/model/build.ts): item embedding (vocab x 64) concatenated with a learned
position embedding (L x 8) -> d = 72 tokens, the target item inside the sequence; one transformer block (4-head
self-attention with a key padding mask, dropout 0.2, residual + LayerNorm, feed-forward d -> ffn_mult*d -> d with
LeakyReLU, residual + LayerNorm); flatten; MLP 256-128 with LeakyReLU; one output; MSE; Adam. Batch 256.

Thread settings: one torch thread with a single-threaded OpenBLAS was PyTorch's fastest setting on this 2-core
machine (measured in the prototype), so both are set to 1 before torch is imported.

    /usr/bin/python3 bench/torch_bst.py --seq-len 8 --steps 50 [--warmup 10] [--window 10] [--ffn-mult 1] [--threads 1]
Prints one JSON line: {"torch": version, "train_per_s": ..., "train_best_per_s": ..., "infer_per_s": ..., ...};
train_best_per_s is the fastest --window consecutive steps, as bench/train.ts reports for the tfjs tiers.
"""
import argparse
import json
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("--seq-len", type=int, default=8)
parser.add_argument("--batch", type=int, default=256)
parser.add_argument("--steps", type=int, default=50)
parser.add_argument("--warmup", type=int, default=10)
parser.add_argument("--window", type=int, default=10)
parser.add_argument("--ffn-mult", type=int, default=1)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--items", type=int, default=3707)
args = parser.parse_args()

os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
import torch  # noqa: E402
from torch import nn  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(1)


class Bst(nn.Module):
    def __init__(self, items, seq_len, emb=64, pos=8, heads=4, ffn_mult=1, mlp=(256, 128), dropout=0.2, alpha=0.2):
        super().__init__()
        d = emb + pos
        self.item = nn.Embedding(items, emb, padding_idx=0)
        self.pos = nn.Embedding(seq_len, pos)
        # batch_first=True: attention runs over each sample's sequence, not across the batch
        self.att = nn.MultiheadAttention(d, heads, dropout=0.0, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.ln1 = nn.LayerNorm(d, eps=1e-6)
        self.ffn = nn.Sequential(nn.Linear(d, ffn_mult * d), nn.LeakyReLU(alpha), nn.Linear(ffn_mult * d, d))
        self.ln2 = nn.LayerNorm(d, eps=1e-6)
        layers, width = [], seq_len * d
        for units in mlp:
            layers += [nn.Linear(width, units), nn.LeakyReLU(alpha)]
            width = units
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)
        self.register_buffer("positions", torch.arange(seq_len))

    def forward(self, seq):
        pad = seq == 0  # [B, L] True = padding key
        x = torch.cat([self.item(seq), self.pos(self.positions).expand(seq.shape[0], -1, -1)], dim=-1)  # [B, L, d]
        a, _ = self.att(x, x, x, key_padding_mask=pad, need_weights=False)
        s1 = self.ln1(x + self.drop(a))
        s2 = self.ln2(s1 + self.drop(self.ffn(s1)))
        s2 = s2 * (~pad).unsqueeze(-1)
        return self.mlp(s2.flatten(1)).squeeze(-1)


def batches(n, seq_len, batch, items):
    g = torch.Generator().manual_seed(10)
    out = []
    for _ in range(n):
        seq = torch.randint(1, items, (batch, seq_len), generator=g)
        lengths = torch.randint(1, seq_len + 1, (batch,), generator=g)
        seq[torch.arange(seq_len).unsqueeze(0) < (seq_len - lengths).unsqueeze(1)] = 0  # left padding, target kept
        out.append((seq, torch.rand(batch, generator=g) * 4 + 1))
    return out


model = Bst(args.items, args.seq_len, ffn_mult=args.ffn_mult)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
data = batches(4, args.seq_len, args.batch, args.items)


def step(i):
    seq, y = data[i % len(data)]
    opt.zero_grad(set_to_none=True)
    loss = nn.functional.mse_loss(model(seq), y)
    loss.backward()
    opt.step()
    return float(loss)


model.train()
for i in range(args.warmup):
    step(i)
step_s = []
t0 = time.perf_counter()
for i in range(args.steps):
    ts = time.perf_counter()
    step(i)
    step_s.append(time.perf_counter() - ts)
train_s = time.perf_counter() - t0
w = min(args.window, len(step_s))
best_s = min(sum(step_s[i:i + w]) for i in range(len(step_s) - w + 1))
model.eval()
with torch.no_grad():
    model(data[0][0])
    t1 = time.perf_counter()
    for i in range(args.steps):
        model(data[i % len(data)][0])
    infer_s = time.perf_counter() - t1
print(json.dumps({
    "torch": torch.__version__,
    "threads": torch.get_num_threads(),
    "seq_len": args.seq_len,
    "ffn_mult": args.ffn_mult,
    "params": sum(p.numel() for p in model.parameters()),
    "train_per_s": args.steps * args.batch / train_s,
    "train_best_per_s": w * args.batch / best_s,
    "infer_per_s": args.steps * args.batch / infer_s,
}))
