#!/bin/sh
# One-shot setup for docker/compose.yaml: node keys for epoch 0, then the mint key
# and genesis. Does nothing when /data/mint already holds a mint.
set -eu
NODES="${NODES:-4}"
if [ -f /data/mint/mint-key.json ]; then echo "already initialised"; exit 0; fi
: > /data/nodes.txt
i=0
while [ "$i" -lt "$NODES" ]; do
  node /app/cli/ringmint.ts node init --data "/data/node-$i" --json | sed -n 's/.*"nodeId":"\([0-9a-f]*\)".*/\1/p' >> /data/nodes.txt
  i=$((i + 1))
done
node /app/cli/ringmint.ts mint init --data /data/mint --network "${NETWORK:-ringmint-docker}" --admission open --nodes /data/nodes.txt
cp /data/mint/genesis.json /data/genesis.json
