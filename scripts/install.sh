#!/usr/bin/env bash
# Puts the twinedge hub on a Debian bookworm system: 64-bit Raspberry Pi OS (arm64: Pi 3, 4, 5,
# Zero 2 W) or an amd64 machine. 32-bit Raspberry Pi OS (armhf) is refused: onnxruntime-node,
# which runs the encoders, ships no 32-bit ARM binary.
#
#   sudo scripts/install.sh [--root DIR] [--dry-run]
#
# It installs Node.js 20 when Node is missing or older, the build tools the BLE addon compiles
# with, a system user `twinedge` (groups dialout and bluetooth), the app in /opt/twinedge (built
# as the Dockerfile builds it), /etc/twinedge/config.yaml from src/config/config.example.yaml and
# a signing key /etc/twinedge/hub.key (mode 0600, owned by twinedge) when they are absent, the
# data folder /var/lib/twinedge (0700) and the systemd unit, enabled.
#
# Running it again upgrades the app when its sources changed and changes nothing else: the
# config and the key are never overwritten (a key readable by others is set back to 0600).
#
#   --root DIR  lay everything out under DIR instead of /, for an image or a test: no apt, no
#               user, no chown, no systemctl (Node 20 must already be on PATH)
#   --prefix DIR  the same as --root DIR
#   --dry-run   print what would change, change nothing
#
# Node.js comes from NodeSource's signed apt repository, not a tarball: apt checks every package
# against a key whose fingerprint is pinned below, and `apt upgrade` brings Node's security fixes
# like any other package's. Debian bookworm's own nodejs is 18, too old.
set -euo pipefail
umask 022

NODE_MAJOR=20
NODESOURCE_KEY_URL=https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key
NODESOURCE_KEY_FINGERPRINT=6F71F525282841EEDAF851B42F59B5F99B1BE0B4
HUB_USER=twinedge

# What the build needs from the checkout, and what the hub needs at run time: the same lists as
# the Dockerfile's COPY lines.
BUILD_INPUTS=(package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json src proto scripts device-profiles)
RUNTIME_FILES=(package.json node_modules dist proto scripts/twinedge.js device-profiles src/embeddings/models)

say() { printf 'install: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

root=''
staging=0
dry=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root | --prefix)
      [ $# -ge 2 ] || die "$1 needs a folder"
      root="$2"
      staging=1
      shift 2
      ;;
    --root=* | --prefix=*)
      root="${1#*=}"
      staging=1
      shift
      ;;
    --dry-run)
      dry=1
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

if [ "$staging" = 1 ]; then
  [ -n "$root" ] || die "--root needs a folder"
  root="$(realpath -m "$root")"
  [ "$root" != / ] || die "--root / is the system itself: leave --root out"
elif [ "$(id -u)" != 0 ]; then
  die "run as root (sudo $0), or with --root DIR to lay the files out in a folder"
fi

src_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
app="$root/opt/twinedge"
etc="$root/etc/twinedge"
state="$root/var/lib/twinedge"
unit="$root/etc/systemd/system/twinedge.service"
changed=0

system() { [ "$staging" = 0 ]; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    change apt-get update
    apt_updated=1
  fi
  change env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

# Runs a command, or says it would in a dry run; every change to the system goes through here.
change() {
  changed=1
  if [ "$dry" = 1 ]; then
    say "would: $*"
  else
    say "$*"
    "$@"
  fi
}

check_platform() {
  local arch
  arch="$(dpkg --print-architecture 2>/dev/null || uname -m)"
  case "$arch" in
    arm64 | aarch64 | amd64 | x86_64) ;;
    armhf | armel | armv7l | armv6l)
      die "32-bit ARM ($arch) is not supported: onnxruntime-node has no 32-bit ARM build. Install the 64-bit Raspberry Pi OS." ;;
    *) die "unsupported architecture $arch: arm64 and amd64 are supported" ;;
  esac
  if [ -r /etc/os-release ] && ! grep -q '^VERSION_CODENAME=bookworm$' /etc/os-release; then
    say "warning: this script is made for Debian bookworm (Raspberry Pi OS 12); going on"
  fi
}

node_major() {
  if command -v node >/dev/null 2>&1; then
    node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
  else
    echo 0
  fi
}

install_node() {
  local major
  major="$(node_major)"
  if [ "$major" -ge "$NODE_MAJOR" ]; then
    say "Node.js $(node --version) is installed"
    return
  fi
  system || die "Node.js $NODE_MAJOR or newer must be on PATH to build into --root (found: ${major/#0/none})"
  if [ "$dry" = 1 ]; then
    change apt-get install nodejs "(Node.js $NODE_MAJOR from NodeSource)"
    return
  fi
  say "installing Node.js $NODE_MAJOR from NodeSource"
  apt_install ca-certificates curl gnupg
  local key fingerprint
  key="$(mktemp)"
  curl -fsSL "$NODESOURCE_KEY_URL" | gpg --dearmor >"$key"
  fingerprint="$(gpg --show-keys --with-colons "$key" | awk -F: '$1 == "fpr" { print $10; exit }')"
  if [ "$fingerprint" != "$NODESOURCE_KEY_FINGERPRINT" ]; then
    rm -f "$key"
    die "NodeSource's key has fingerprint '$fingerprint', expected $NODESOURCE_KEY_FINGERPRINT: refusing it"
  fi
  install -d -m 0755 /etc/apt/keyrings
  install -m 0644 "$key" /etc/apt/keyrings/nodesource.gpg
  rm -f "$key"
  echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_$NODE_MAJOR.x nodistro main" \
    >/etc/apt/sources.list.d/nodesource.list
  change apt-get update
  apt_install nodejs
  [ "$(node_major)" -ge "$NODE_MAJOR" ] || die "Node.js $NODE_MAJOR did not install"
}

# The BLE addon (@abandonware/bluetooth-hci-socket) is compiled at install time; it is an optional
# dependency, so without a compiler npm leaves it out without failing and the hub has no BLE.
install_build_tools() {
  local missing=() tool
  for tool in make g++ python3; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if system; then
    apt_install build-essential python3
  else
    say "warning: ${missing[*]} missing: BLE (noble's HCI addon) will not be built"
  fi
}

ensure_user() {
  system || return 0
  if ! id "$HUB_USER" >/dev/null 2>&1; then
    change useradd --system --user-group --home-dir /var/lib/twinedge --no-create-home \
      --shell /usr/sbin/nologin --comment 'twinedge hub' "$HUB_USER"
  fi
  local group
  for group in dialout bluetooth; do
    getent group "$group" >/dev/null || continue
    if ! id -nG "$HUB_USER" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"; then
      change usermod -a -G "$group" "$HUB_USER"
    fi
  done
}

# ensure_dir PATH MODE OWNER:GROUP (the owner only outside --root)
ensure_dir() {
  local path="$1" mode="$2" owner="$3"
  if [ ! -d "$path" ]; then
    change install -d -m "$mode" "$path"
  elif [ "$(stat -c %a "$path")" != "${mode#0}" ]; then
    change chmod "$mode" "$path"
  fi
  system || return 0
  if [ ! -d "$path" ] || [ "$(stat -c %U:%G "$path")" != "$owner" ]; then
    change chown "$owner" "$path"
  fi
}

# A digest of everything the build reads, and of the Node that builds it: the app is rebuilt
# only when it changes, so that a second run leaves /opt/twinedge as it is.
source_digest() {
  {
    (cd "$src_dir" && find "${BUILD_INPUTS[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    node --version 2>/dev/null || true
    uname -m
  } | sha256sum | cut -d ' ' -f 1
}

install_app() {
  local digest stamp="$app/.install-digest"
  digest="$(source_digest)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
    say "$app is up to date"
    return
  fi
  if [ "$dry" = 1 ]; then
    change build "$src_dir" into "$app" "(npm ci, npm run build, npm prune --omit=dev)"
    return
  fi
  changed=1
  say "building the app into $app"
  mkdir -p "$(dirname "$app")"
  # Built beside its destination, so that the swap at the end is two renames on one file system.
  work="$(mktemp -d "$app.build.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  mkdir "$work/build" "$work/app"
  (cd "$src_dir" && tar -cf - "${BUILD_INPUTS[@]}") | (cd "$work/build" && tar -xf -)
  # npm versions that block dependencies' install scripts unless allowed must still compile the
  # BLE addon; the other native dependencies ship prebuilt binaries. Older npm runs every script
  # and ignores the key.
  printf '%s\n' 'allow-scripts=@abandonware/bluetooth-hci-socket' >>"$work/build/.npmrc"
  local node_prefix
  node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  (
    cd "$work/build"
    # onnxruntime-node's install script would download GPU binaries; its CPU ones ship in the
    # package (.npmrc says the same, in a key newer npm versions warn about).
    export ONNXRUNTIME_NODE_INSTALL=skip
    # node-gyp compiles against this Node's own headers rather than downloading them.
    if [ -f "$node_prefix/include/node/node.h" ]; then export npm_config_nodedir="$node_prefix"; fi
    npm ci --no-audit --no-fund
    npm run build
    npm prune --omit=dev --no-audit --no-fund
  )
  (cd "$work/build" && tar -cf - "${RUNTIME_FILES[@]}") | (cd "$work/app" && tar -xf -)
  echo "$digest" >"$work/app/.install-digest"
  chmod -R u=rwX,go=rX "$work/app"
  chmod 0755 "$work/app"
  if [ -e "$app" ]; then mv "$app" "$work/previous"; fi
  mv "$work/app" "$app"
  rm -rf "$work"
  trap - EXIT
}

# hub.id: the host name, unless it is a default that every Pi shares; then one derived from the
# machine id, so that two fresh hubs never publish under one id.
hub_id() {
  local name
  name="$(hostname 2>/dev/null | tr -c 'A-Za-z0-9._\n-' '-' | sed 's/^[^A-Za-z0-9]*//' | cut -c 1-64)"
  case "$name" in
    '' | raspberrypi | localhost | debian)
      if [ -s /etc/machine-id ]; then
        name="hub-$(sha256sum </etc/machine-id | cut -c 1-8)"
      else
        name="hub-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
      fi
      ;;
  esac
  echo "$name"
}

fresh_config=0
write_config() {
  local config="$etc/config.yaml" id tmp
  if [ -e "$config" ]; then
    say "keeping $config"
    return
  fi
  fresh_config=1
  id="$(hub_id)"
  if [ "$dry" = 1 ]; then
    change write "$config" "(from config.example.yaml, hub.id $id)"
    return
  fi
  changed=1
  tmp="$(mktemp "$etc/.config.yaml.XXXXXX")"
  sed -e "s|^  id: bedside-01\$|  id: $id|" \
    -e 's|^  data_dir: ./data$|  data_dir: /var/lib/twinedge|' \
    -e 's|^  key_file: ./data/hub.key$|  key_file: /etc/twinedge/hub.key|' \
    "$src_dir/src/config/config.example.yaml" >"$tmp"
  local want
  for want in "  id: $id" '  data_dir: /var/lib/twinedge' '  key_file: /etc/twinedge/hub.key'; do
    if ! grep -qxF "$want" "$tmp"; then
      rm -f "$tmp"
      die "config.example.yaml no longer has the hub keys this script fills in ($want): update write_config"
    fi
  done
  chmod 0640 "$tmp"
  if system; then chown "root:$HUB_USER" "$tmp"; fi
  mv "$tmp" "$config"
  say "wrote $config with hub.id $id"
}

ensure_key() {
  local key="$etc/hub.key"
  if [ ! -e "$key" ]; then
    if [ "$dry" = 1 ]; then
      change generate "$key" "(twinedge keys generate, mode 0600)"
      return
    fi
    changed=1
    say "generating the hub's signing key $key; its key_id:"
    node "$app/scripts/twinedge.js" keys generate --out "$etc/hub"
  fi
  # The hub refuses to start with a key that others can read (KEY_FILE_EXPOSED).
  if [ -e "$key" ] && [ "$(stat -c %a "$key")" != 600 ]; then
    change chmod 0600 "$key"
  fi
  if system && [ -e "$key" ] && [ "$(stat -c %U:%G "$key")" != "$HUB_USER:$HUB_USER" ]; then
    change chown "$HUB_USER:$HUB_USER" "$key"
  fi
}

install_unit() {
  local source="$src_dir/scripts/systemd/twinedge.service"
  if cmp -s "$source" "$unit"; then
    say "$unit is up to date"
  else
    change install -D -m 0644 "$source" "$unit"
    if system; then change systemctl daemon-reload; fi
  fi
  if system && ! systemctl is-enabled --quiet twinedge.service 2>/dev/null; then
    change systemctl enable twinedge.service
  fi
}

check_platform
install_node
install_build_tools
ensure_user
ensure_dir "$etc" 0750 "root:$HUB_USER"
ensure_dir "$state" 0700 "$HUB_USER:$HUB_USER"
install_app
write_config
ensure_key
install_unit

if [ "$dry" = 1 ]; then
  [ "$changed" = 1 ] || say "nothing to change"
  exit 0
fi
if [ "$fresh_config" = 1 ]; then
  say "next: set the broker, subjects and devices in $etc/config.yaml, then: systemctl start twinedge"
elif system && [ "$changed" = 1 ]; then
  # Restarts the hub only if it was running, so that it runs what was just installed.
  systemctl try-restart twinedge.service
fi
[ "$changed" = 1 ] || say "nothing to change"
say "done; logs: journalctl -u twinedge"
