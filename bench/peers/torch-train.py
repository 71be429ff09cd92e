# Training peer of `npm run bench -- --train`: the same network (a JSON layer list written by bench/train.ts from the
# edgec IR after its passes, weights included) in PyTorch on the CPU (spec "threads", default 1), SGD momentum 0.9, softmax
# cross-entropy, over the same batches (raw file: x f32 [count,28,28,1] NHWC, then labels i32 [count]).
# With "teacher" (a layer list) and "temperature" T in the spec it runs the distillation loop instead: per step the
# teacher's logits under no_grad, then the student's step on T² · KL(softmax(t/T) ‖ softmax(s/T)) (edgec's KlDivergence).
# Prints one JSON line: samples/s, the last loss, peak RSS. Usage: python3 torch-train.py spec.json
import json, resource, sys, time

import numpy as np
import torch
from torch import nn

spec = json.load(open(sys.argv[1]))
torch.set_num_threads(spec.get("threads", 1))
B, warm, steps = spec["batch"], spec["warm"], spec["steps"]
count = B * (warm + steps)
raw = np.fromfile(spec["data"], dtype=np.uint8)
x_all = torch.from_numpy(raw[: count * 784 * 4].view(np.float32).reshape(count, 28, 28, 1).transpose(0, 3, 1, 2).copy())
y_all = torch.from_numpy(raw[count * 784 * 4 :].view(np.int32).astype(np.int64))


def tensor(t):
    return torch.tensor(np.array(t["data"], dtype=np.float32).reshape(t["shape"]))


def build(specs):
    layers = []
    for l in specs:
        op = l["op"]
        if op == "Conv2D":
            w = tensor(l["w"]).permute(0, 3, 1, 2).contiguous()  # OHWI -> OIHW
            pt, pl, pb, pr = l["padding"]
            if pt != pb or pl != pr:
                layers.append(nn.ZeroPad2d((pl, pr, pt, pb)))
                pt = pl = 0
            c = nn.Conv2d(w.shape[1] * l["groups"], w.shape[0], tuple(w.shape[2:]), stride=tuple(l["strides"]),
                          padding=(pt, pl), dilation=tuple(l["dilations"]), groups=l["groups"], bias="b" in l)
            with torch.no_grad():
                c.weight.copy_(w)
                if "b" in l:
                    c.bias.copy_(tensor(l["b"]))
            layers.append(c)
        elif op == "Dense":
            w = tensor(l["w"])
            d = nn.Linear(w.shape[1], w.shape[0], bias="b" in l)
            with torch.no_grad():
                d.weight.copy_(w)
                if "b" in l:
                    d.bias.copy_(tensor(l["b"]))
            layers.append(d)
        elif op == "MaxPool":
            layers.append(nn.MaxPool2d(tuple(l["kernel"]), tuple(l["strides"])))
        elif op == "GlobalAvgPool":
            layers.append(nn.AdaptiveAvgPool2d(1))
        elif op == "Flatten":
            layers.append(nn.Flatten())
        else:
            sys.exit(f"torch peer: op {op} not mapped")
        if l.get("activation") == "relu":
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


model = build(spec["layers"])
opt = torch.optim.SGD(model.parameters(), lr=spec["lr"], momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
teacher = build(spec["teacher"]).eval() if "teacher" in spec else None
T = spec.get("temperature", 1.0)


def step(i):
    xb, yb = x_all[i * B : (i + 1) * B], y_all[i * B : (i + 1) * B]
    opt.zero_grad()
    if teacher is None:
        loss = loss_fn(model(xb), yb)
    else:
        with torch.no_grad():
            t = teacher(xb)
        s = model(xb)
        kl = nn.functional.kl_div(nn.functional.log_softmax(s / T, 1), nn.functional.softmax(t / T, 1), reduction="batchmean")
        loss = kl * (T * T)
    loss.backward()
    opt.step()
    return loss.item()


for i in range(warm):
    loss = step(i)
t0 = time.perf_counter()
for i in range(warm, warm + steps):
    loss = step(i)
s = time.perf_counter() - t0
print(json.dumps({"samplesPerS": steps * B / s, "loss": loss, "peakRss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
