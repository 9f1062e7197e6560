#!/usr/bin/env bash
# Starts the 3-node Redis Cluster the scale-out tests use (127.0.0.1:7101,
# 7102, 7103; REGBOT_TEST_REDIS_CLUSTER), unless it is already up. Each
# node keeps its files in /var/lib/redis-cluster/PORT (or $CLUSTER_DIR).
set -euo pipefail
ports=(7101 7102 7103)
dir=${CLUSTER_DIR:-/var/lib/redis-cluster}
ok() { redis-cli -p "${ports[0]}" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }
if ok; then
  exit 0
fi
echo "redis-cluster: starting ${ports[*]}"
for p in "${ports[@]}"; do
  if ! redis-cli -p "$p" ping >/dev/null 2>&1; then
    mkdir -p "$dir/$p"
    rm -f "$dir/$p/nodes.conf"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$p" --cluster-enabled yes \
      --cluster-config-file nodes.conf --cluster-node-timeout 5000 --save "" --appendonly no \
      --dir "$dir/$p" --logfile "$dir/$p/redis.log"
  fi
done
for p in "${ports[@]}"; do
  for _ in $(seq 1 30); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.2; done
done
if ! ok; then
  # Nodes from an earlier, unfinished attempt: start them over empty.
  for p in "${ports[@]}"; do
    redis-cli -p "$p" flushall >/dev/null 2>&1 || true
    redis-cli -p "$p" cluster reset hard >/dev/null
  done
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") --cluster-replicas 0 --cluster-yes >/dev/null
fi
for _ in $(seq 1 50); do ok && exit 0; sleep 0.2; done
echo "redis-cluster: not ok after start" >&2
redis-cli -p "${ports[0]}" cluster info >&2 || true
exit 1
