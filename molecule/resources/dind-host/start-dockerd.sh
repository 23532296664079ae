#!/bin/sh
# Without --privileged the cgroup v1 hierarchies arrive read-only and cannot be remounted in
# place ("busy"); in a private cgroup namespace they can be unmounted and mounted again rw,
# which dockerd needs to create containers.
if ! [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  grep ' cgroup ' /proc/self/mounts | while read -r _ dir _ opts _; do
    case "$opts" in ro,*) ;; *) continue ;; esac
    sub=$(echo "$opts" | tr ',' '\n' | grep -vE '^(ro|rw|nosuid|nodev|noexec|relatime)$' | paste -sd, -)
    umount "$dir" && mount -t cgroup -o "rw,nosuid,nodev,noexec,${sub:-none}" cgroup "$dir"
  done
fi
dockerd >/var/log/dockerd.log 2>&1 &
exec sleep infinity
