#!/usr/bin/env bash
# Writes a small synthetic data set in the CIFAR-10 binary format (data_batch_1..5.bin,
# test_batch.bin: records of a label byte and 3072 pixel bytes, red/green/blue planes of 32x32),
# for trying Soma's CIFAR code path where the real data cannot be downloaded. Class k is a
# grating at angle 18k degrees with a class colour, at a random phase, plus noise: learnable,
# not trivial.
#
#   scripts/gen_cifar_like.sh DIR [train_per_class] [test_per_class]     default 100 20
#
# Read it with --data cifar10:DIR. The real data: https://www.cs.toronto.edu/~kriz/cifar.html
# (the binary version).
set -eu
dir=${1:?usage: gen_cifar_like.sh DIR [train_per_class] [test_per_class]}
ntr=${2:-100}; nte=${3:-20}
mkdir -p "$dir"
/usr/bin/python3 - "$dir" "$ntr" "$nte" <<'PYEOF'
import math, os, random, sys
d, ntr, nte = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(1)
def record(k):
    a = math.pi * k / 10
    ca, sa = math.cos(a), math.sin(a)
    phase = rng.uniform(0, 2 * math.pi)
    col = [(k * 37 % 10) / 10, (k * 53 % 10) / 10, (k * 71 % 10) / 10]
    out = bytearray([k])
    for c in range(3):
        for y in range(32):
            for x in range(32):
                g = 0.5 + 0.5 * math.sin(0.6 * (x * ca + y * sa) + phase)
                v = 255 * (0.35 * g * (0.4 + col[c]) + 0.3 * rng.random())
                out.append(max(0, min(255, int(v))))
    return out
def write(name, per_class):
    recs = [record(k) for _ in range(per_class) for k in range(10)]
    rng.shuffle(recs)
    return recs
train = write("train", ntr)
for i in range(5):
    with open(os.path.join(d, f"data_batch_{i + 1}.bin"), "wb") as f:
        for r in train[i::5]:
            f.write(r)
with open(os.path.join(d, "test_batch.bin"), "wb") as f:
    for r in write("test", nte):
        f.write(r)
print(f"gen_cifar_like: {10 * ntr} training and {10 * nte} test images in {d}", file=sys.stderr)
PYEOF
