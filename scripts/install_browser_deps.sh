#!/bin/sh
# What the browser and PDF tests need from the system: Chromium, poppler's pdftoppm, npm (for
# axe-core), the Liberation and DejaVu fonts (the PDF tests read the layout their metrics give),
# Pango and HarfBuzz's subsetter (WeasyPrint). Only what is missing is installed, with Debian's
# apt-get as root; npm is left alone when one is already there (a Node.js from elsewhere
# conflicts with Debian's). Without them the browser tests are skipped, with the reason shown.
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v pdftoppm >/dev/null 2>&1 || missing="$missing poppler-utils"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
fonts=$(fc-list 2>/dev/null)
echo "$fonts" | grep -qi "liberation" || missing="$missing fonts-liberation"
echo "$fonts" | grep -qi "dejavu" || missing="$missing fonts-dejavu-core"
libraries=$(ldconfig -p 2>/dev/null)
echo "$libraries" | grep -q "libpangoft2-1.0" || missing="$missing libpango-1.0-0 libpangoft2-1.0-0"
echo "$libraries" | grep -q "libharfbuzz-subset" || missing="$missing libharfbuzz-subset0"

if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing for the browser and PDF tests:$missing"
    # Another apt-get (a second `make test` starting beside this one) holds the lock: wait.
    apt-get -o DPkg::Lock::Timeout=600 update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
            $missing \
        || echo "warning: could not install$missing; browser tests may be skipped." >&2
else
    echo "warning: missing$missing (installing needs root and apt-get);" \
        "browser tests may be skipped." >&2
fi
