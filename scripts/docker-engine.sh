#!/usr/bin/env bash
# Makes sure a Docker engine answers and the Debian base images exist, with no
# image registry: the engine runs without bridge networking (every container of
# this project uses the host network), and base images come from debootstrap.
# Idempotent: reuses a running engine and images that already exist.
set -euo pipefail

log() { printf '[docker-engine] %s\n' "$*" >&2; }

need_packages=()
command -v dockerd >/dev/null || need_packages+=(docker.io)
command -v docker-compose >/dev/null || need_packages+=(docker-compose)
command -v debootstrap >/dev/null || need_packages+=(debootstrap)
if ((${#need_packages[@]})); then
  log "installing ${need_packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  # The daemon outlives this script: it must not inherit any descriptor beyond the
  # standard three (a caller's `flock` lock file would stay locked while it runs).
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec nohup dockerd --bridge=none --iptables=false --ip-masq=false >/var/log/dockerd.log 2>&1
  ) &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up; see /var/log/dockerd.log"; exit 1; }
fi

mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}

for suite in "$@"; do
  image="debian:${suite}-slim"
  if docker image inspect "$image" >/dev/null 2>&1; then
    continue
  fi
  log "building $image with debootstrap from $mirror"
  root=$(mktemp -d)
  # A suite newer than this debootstrap (forky on bookworm) is built like sid.
  script=/usr/share/debootstrap/scripts/$suite
  [ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
  debootstrap --variant=minbase "$suite" "$root" "$mirror" "$script" \
      >/tmp/debootstrap-"$suite".log 2>&1 \
    || { log "debootstrap $suite failed; see /tmp/debootstrap-$suite.log"; exit 1; }
  # Slim, as Debian's official slim images are: no package caches or lists,
  # and dpkg told to leave out documentation and translations from now on.
  rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
    "$root"/usr/share/info/* "$root"/usr/share/locale/*
  cat >"$root"/etc/dpkg/dpkg.cfg.d/slim <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
SLIM
  tar -C "$root" -c . | docker import - "$image" >/dev/null
  rm -rf "$root"
done
