#!/usr/bin/env bash
# Install Debian's wrk (the HTTP load generator of `make bench`'s page measurements).
set -u
if command -v wrk >/dev/null; then exit 0; fi
sudo_cmd=""
if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo -n"; fi
if $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq wrk >/dev/null; then
  echo "Installed $(command -v wrk)"
  exit 0
fi
echo "Could not install Debian's wrk package (apt-get install wrk): the page measurements will show as not measured." >&2
exit 0
