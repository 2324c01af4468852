#!/bin/sh
# Builds the local test image agora/busybox:1 (busybox-static + applet links) when missing.
# Nothing can be pulled on the build machines, so the image is built FROM scratch.
set -eu
IMAGE="${1:-agora/busybox:1}"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  exit 0
fi
BUSYBOX="$(command -v busybox || true)"
[ -n "$BUSYBOX" ] || { [ -x /bin/busybox ] && BUSYBOX=/bin/busybox; }
# the image is FROM scratch: busybox must be statically linked (Debian's busybox-static, not busybox)
if [ -z "$BUSYBOX" ] || ! LC_ALL=C ldd "$BUSYBOX" 2>&1 | grep -q "not a dynamic executable"; then
  echo "a static busybox is needed: apt-get install -y busybox-static" >&2
  exit 1
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/usr/bin" "$WORK/rootfs/tmp" "$WORK/rootfs/etc" "$WORK/ctx"
chmod 1777 "$WORK/rootfs/tmp"
cp "$BUSYBOX" "$WORK/rootfs/bin/busybox"
for a in $("$BUSYBOX" --list); do
  [ "$a" = busybox ] || ln -sf /bin/busybox "$WORK/rootfs/bin/$a"
done
echo "nobody:x:65534:65534:nobody:/tmp:/bin/sh" > "$WORK/rootfs/etc/passwd"
tar -C "$WORK/rootfs" -cf "$WORK/ctx/rootfs.tar" .
printf 'FROM scratch\nADD rootfs.tar /\nCMD ["/bin/sh"]\n' > "$WORK/ctx/Dockerfile"
docker build -q -t "$IMAGE" "$WORK/ctx"
