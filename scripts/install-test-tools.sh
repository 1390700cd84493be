#!/usr/bin/env bash
# What the test suite needs beyond Python packages: Debian's Chromium for the browser
# tests and axe-core (npm) for the accessibility checks. No browser download: Playwright
# drives /usr/bin/chromium.
set -eu
# gettext: the test that no marked string is missing from the German catalogue runs
# makemessages, which needs xgettext and msgmerge. spamassassin scores a sent issue with
# the rules the package ships (never run sa-update: offline it leaves no rules at all).
if [ ! -x /usr/bin/chromium ] || ! command -v msgmerge >/dev/null \
  || ! command -v spamassassin >/dev/null; then
  echo "Installing Debian's chromium, gettext and spamassassin for the tests"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core gettext \
    spamassassin >/dev/null
fi
if [ -f package-lock.json ] && [ ! -d node_modules/axe-core ]; then
  npm ci --silent --no-audit --no-fund
fi
