#!/bin/sh
echo "worker: queue not configured" >&2
exit 3
