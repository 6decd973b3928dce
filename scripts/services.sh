#!/usr/bin/env bash
# Installs what the tests run when it is missing: redis-server, the
# PostgreSQL server binaries, and the Chromium of the admin page's browser
# test. It starts nothing and configures nothing: the tests start private
# servers of their own (internal/redistest, internal/pgtest).
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# The admin page's browser test drives a headless Chromium.
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
if ((${#missing[@]})); then
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "services: please install ${missing[*]} (the tests run them as private servers)" >&2
		exit 1
	fi
	echo "services: installing ${missing[*]}"
	sudo=()
	((EUID == 0)) || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
