#!/bin/sh
# The image's entrypoint: runs its arguments (node scripts/twinedge.js ...) as the unprivileged
# user the image runs as, with BLE's capabilities when the container was given them.
#
# Docker puts --cap-add capabilities in a non-root user's bounding set only, never in its
# effective set, so noble could not send HCI commands. hci-caps is a copy of setpriv that holds
# CAP_NET_RAW and CAP_NET_ADMIN as permitted file capabilities; not effective ones, so that it
# still starts in a container that allows neither. Each one the container allows is raised as an
# ambient capability, which node keeps across exec; one it does not allow is left out.
set -eu

helper="${TWINEDGE_HCI_CAPS:-/usr/local/lib/twinedge/hci-caps}"
caps=''
if [ -x "$helper" ]; then
  for cap in net_raw net_admin; do
    if "$helper" --inh-caps "+$cap" --ambient-caps "+$cap" true 2>/dev/null; then
      caps="$caps,+$cap"
    fi
  done
fi
if [ -n "$caps" ]; then
  exec "$helper" --inh-caps "${caps#,}" --ambient-caps "${caps#,}" -- "$@"
fi
exec "$@"
