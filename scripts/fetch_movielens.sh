#!/usr/bin/env bash
# scripts/fetch_movielens.sh — downloads MovieLens-100k and/or -1M from GroupLens into
# cache/movielens/ (for users with internet access; CI and the project's machines use
# ../shared/data instead, see its README). MovieLens may not be redistributed: never commit
# the files. Afterwards: soma rec train --data cache/movielens/ml-100k (or SOMA_DATA=cache/movielens).
#
#   scripts/fetch_movielens.sh            # both
#   scripts/fetch_movielens.sh ml-100k    # one
set -eu
cd "$(dirname "$0")/.."
dest=${SOMA_CACHE:-cache}/movielens
mkdir -p "$dest"
sets=${*:-ml-100k ml-1m}
for s in $sets; do
    case "$s" in
        ml-100k) url=https://files.grouplens.org/datasets/movielens/ml-100k.zip; check="u.data 06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490";;
        ml-1m) url=https://files.grouplens.org/datasets/movielens/ml-1m.zip; check="";;
        *) echo "fetch_movielens: unknown set '$s' (ml-100k, ml-1m)" >&2; exit 2;;
    esac
    if [ -d "$dest/$s" ]; then echo "fetch_movielens: $dest/$s exists"; continue; fi
    echo "fetch_movielens: downloading $url" >&2
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    if command -v curl >/dev/null; then curl -fL --retry 3 -o "$tmp/$s.zip" "$url"; else wget -O "$tmp/$s.zip" "$url"; fi
    if [ "$s" = ml-1m ]; then
        # the official archive's md5, as quoted by many projects
        echo "c4d9eecfca2ab87c1945afe126590906  $tmp/$s.zip" | md5sum -c - >&2
    fi
    (cd "$tmp" && unzip -q "$s.zip")
    if [ -n "$check" ]; then
        set -- $check
        echo "$2  $tmp/$s/$1" | sha256sum -c - >&2
    fi
    mv "$tmp/$s" "$dest/$s"
    rm -rf "$tmp"
    trap - EXIT
    echo "fetch_movielens: $dest/$s ready" >&2
done
