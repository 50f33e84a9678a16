#!/usr/bin/env bash
# Makes cache/fashion-mnist/ hold the four Fashion-MNIST IDX files as symlinks to the gzipped
# copies of Debian's dataset-fashion-mnist package (installed if missing; Soma's loader reads
# .gz directly). The decompressed sha256 sums are verified once and recorded in a stamp file
# together with the sizes and times of the sources, so later runs only compare the stamp.
set -eu
cd "$(dirname "$0")/.."

src=/usr/share/datasets/fashion-mnist
dest=cache/fashion-mnist
stamp=$dest/.verified
names=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
sums=(c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
      bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
      5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
      0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34)

if ! dpkg-query -W -f='${Status}' dataset-fashion-mnist 2>/dev/null | grep -q "install ok installed"; then
    echo "fashion-mnist: installing Debian package dataset-fashion-mnist"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends dataset-fashion-mnist
fi

# What the stamp records: each source's name, size, modification time and expected sum.
describe() {
    local i
    for i in "${!names[@]}"; do
        echo "$(stat -L -c '%n %s %Y' "$src/${names[$i]}.gz") ${sums[$i]}"
    done
}

for f in "${names[@]}"; do
    [ -f "$src/$f.gz" ] || { echo "fetch_fashion_mnist: $src/$f.gz is missing" >&2; exit 1; }
done

mkdir -p "$dest"
for f in "${names[@]}"; do
    [ "$(readlink "$dest/$f.gz" 2>/dev/null || true)" = "$src/$f.gz" ] || ln -sfn "$src/$f.gz" "$dest/$f.gz"
    # a plain file of the same name would be read instead of the .gz: it must not linger
    if [ -e "$dest/$f" ]; then rm -f "$dest/$f"; fi
done

want=$(describe)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "fashion-mnist: $dest ready (4 files, sha256 verified earlier)"
    exit 0
fi

bad=0
for i in "${!names[@]}"; do
    got=$(gzip -dc "$src/${names[$i]}.gz" | sha256sum | cut -d' ' -f1)
    if [ "$got" != "${sums[$i]}" ]; then
        echo "fetch_fashion_mnist: ${names[$i]}: sha256 $got, expected ${sums[$i]}" >&2
        bad=1
    fi
done
if [ "$bad" -ne 0 ]; then
    rm -f "$stamp"
    exit 1
fi
echo "$want" > "$stamp"
echo "fashion-mnist: $dest ready (4 files, sha256 verified)"
