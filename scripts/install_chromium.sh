#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests. Outside CI a failure only means the browser
# tests are skipped; in CI (CI=true) it stops the run.
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
sudo_cmd=""
if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo -n"; fi
if $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null; then
  echo "Installed $(/usr/bin/chromium --version)"
  exit 0
fi
echo "Could not install Debian's chromium package (apt-get install chromium)." >&2
if [ "${CI:-}" = "true" ]; then exit 1; fi
echo "Browser tests will be skipped on this machine." >&2
exit 0
