#!/bin/sh
# Provide GIMP 3 (with Python plug-ins and pyzmq) for the end-to-end tests.
#
#   Debian 13 or later, root:  apt-get install gimp python3-zmq on the host.
#   Older Debian, root:        a cached Debian 13 chroot at $REVERIE_GIMP_ROOT
#                              (default /var/cache/reverie/gimp-trixie), built once with debootstrap
#                              and reused by every later run on the same machine.
#   GIMP 3 already usable:     nothing to do.
#
# Prints where GIMP is on its last line ("native" or the chroot path) and exits 0, or exits 1
# with the reason. Safe to run concurrently: a lock serialises builders, and a chroot is only
# published (renamed into place) once complete.
set -eu

ROOT="${REVERIE_GIMP_ROOT:-/var/cache/reverie/gimp-trixie}"
# Xvfb and xdotool drive the plug-in's dialog in the dialog test.
PACKAGES="gimp python3-zmq xvfb xauth xdotool"
STAMP_TEXT="reverie-gimp-chroot v2: trixie minbase + $PACKAGES"

say() { echo "provide_gimp: $*" >&2; }

native_ok() {
    for tool in gimp-console-3.0 gimp-3.0 Xvfb xdotool; do
        command -v "$tool" >/dev/null 2>&1 || return 1
    done
    # The system Python, which GIMP runs plug-ins with (whatever virtual environment is active here).
    /usr/bin/python3 - <<'EOF' >/dev/null 2>&1
import gi
gi.require_version("Gimp", "3.0")
import zmq  # noqa: F401
EOF
}

debian_major() {
    sed -n 's/^\([0-9][0-9]*\).*/\1/p' /etc/debian_version 2>/dev/null
}

host_mirror() {
    # The Debian mirror the host already uses (deb822 or one-line sources), deb.debian.org otherwise.
    mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
        /etc/apt/sources.list.d/*.list | grep -v security | grep -oE 'https?://[^ ]+/debian/?' | head -n1)
    echo "${mirror:-http://deb.debian.org/debian}" | sed 's:/*$::'
}

host_security_mirror() {
    mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
        /etc/apt/sources.list.d/*.list | grep -oE 'https?://[^ ]+/debian-security/?' | head -n1)
    echo "${mirror:-http://security.debian.org/debian-security}" | sed 's:/*$::'
}

unmount_under() {
    # Unmount everything below $1, deepest first, so that removing it can never touch the host's /dev.
    awk -v root="$1" '$2 == root || index($2, root "/") == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r point; do umount -l "$point"; done
}

install_packages() {
    # apt-get inside the chroot at $1, with proc/dev/sys mounted only while it runs.
    mounted="$1"
    trap 'unmount_under "$mounted"' EXIT INT TERM
    mount -t proc proc "$1/proc"
    mount --bind /dev "$1/dev"
    mount --bind /dev/pts "$1/dev/pts"
    mount -t sysfs sys "$1/sys"
    in_root="chroot $1 env -i HOME=/root LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive"
    say "installing $PACKAGES in the chroot"
    $in_root apt-get update >&2
    # shellcheck disable=SC2086
    $in_root apt-get install -y --no-install-recommends $PACKAGES >&2
    $in_root apt-get clean >&2
    unmount_under "$1"
    trap - EXIT INT TERM
    echo "$STAMP_TEXT" >"$1/.reverie-gimp-stamp"
}

build_chroot() {
    build="$ROOT.build"
    unmount_under "$build"
    rm -rf --one-file-system "$build"
    command -v debootstrap >/dev/null 2>&1 || {
        say "installing debootstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >&2 ||
            { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >&2; }
    }
    mirror=$(host_mirror)
    security=$(host_security_mirror)
    say "debootstrap trixie from $mirror into $build"
    debootstrap --variant=minbase trixie "$build" "$mirror" >&2
    cat >"$build/etc/apt/sources.list" <<EOF
deb $mirror trixie main
deb $mirror trixie-updates main
deb $security trixie-security main
EOF
    install_packages "$build"
    unmount_under "$ROOT"
    rm -rf --one-file-system "$ROOT"
    mv "$build" "$ROOT"
}

if native_ok; then
    say "GIMP 3 with Python and pyzmq is installed on this machine"
    echo native
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    say "GIMP 3 is not installed and this is not root: cannot install it (install $PACKAGES from Debian 13, or run as root)"
    exit 1
fi
major=$(debian_major)
if [ -z "$major" ]; then
    say "not a Debian system: install GIMP 3 with its Python plug-in support and pyzmq yourself"
    exit 1
fi
if [ "$major" -ge 13 ]; then
    say "Debian $major: installing $PACKAGES"
    apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PACKAGES >&2
    native_ok || { say "installed, but gimp-console-3.0 with Python and zmq still does not work"; exit 1; }
    echo native
    exit 0
fi

mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock 9
if [ "$(cat "$ROOT/.reverie-gimp-stamp" 2>/dev/null)" = "$STAMP_TEXT" ]; then
    say "reusing the cached Debian 13 chroot at $ROOT"
elif [ -f "$ROOT/.reverie-gimp-stamp" ]; then
    say "updating the cached Debian 13 chroot at $ROOT (built for other packages)"
    install_packages "$ROOT"
else
    build_chroot
fi
# Workspaces of e2e runs that were killed before they could clean up.
find "$ROOT/tmp" -maxdepth 1 -name 'reverie-e2e-*' -mmin +1440 -exec rm -rf --one-file-system {} +
chroot "$ROOT" env -i HOME=/root LANG=C.UTF-8 PATH=/usr/bin:/bin gimp-console-3.0 --version >&2
echo "$ROOT"
