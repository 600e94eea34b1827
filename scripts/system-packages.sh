#!/usr/bin/env bash
# Makes sure the Debian packages the app needs are present, installing them when
# we are root (or have passwordless sudo). Says exactly what is missing otherwise.
#   scripts/system-packages.sh run    -> what `make run` needs
#   scripts/system-packages.sh test   -> plus what the test suite needs (browser, fonts)
set -euo pipefail
purpose=${1:-run}

# command-or-file to check  ->  Debian package that provides it
declare -A need=(
  [msgfmt]=gettext
  [/usr/lib/x86_64-linux-gnu/libpango-1.0.so.0]=libpango-1.0-0
  [/usr/share/fonts/truetype/wqy/wqy-microhei.ttc]=fonts-wqy-microhei
  # The fallback for the rarer characters of company names that WQY lacks (PDF_CJK_FALLBACK_FONT).
  [/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]=fonts-noto-cjk
  # WeasyPrint subsets fonts with it (and warns at import without it, which the test settings make an error).
  [/usr/lib/x86_64-linux-gnu/libharfbuzz-subset.so.0]=libharfbuzz-subset0
)
if [ "$purpose" = test ]; then
  need[chromium]=chromium
fi

present() {
  case "$1" in
    /*) [ -e "$1" ] || ls ${1/x86_64-linux-gnu/*-linux-gnu} >/dev/null 2>&1 ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
for probe in "${!need[@]}"; do
  present "$probe" || missing+=("${need[$probe]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing system packages: ${missing[*]}"
if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
if [ "$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  if $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/orderreview-apt.log 2>&1 \
     || { $SUDO apt-get update -q >>/tmp/orderreview-apt.log 2>&1 \
          && $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/orderreview-apt.log 2>&1; }; then
    exit 0
  fi
  echo "apt-get could not install them; see /tmp/orderreview-apt.log" >&2
fi
cat >&2 <<MSG

Missing system packages: ${missing[*]}
Install them (Debian/Ubuntu):   sudo apt-get install ${missing[*]}
then run the make command again.
MSG
exit 1
