#!/usr/bin/env bash
# Starts the Redis and PostgreSQL the test suite talks to, installing them
# (and the Chromium of the admin page's browser test) first on a fresh
# machine. Safe to run when both are already up.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
ls /etc/postgresql >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
# The admin page's browser test drives a headless Chromium.
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
if ((${#missing[@]})); then
	echo "services: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
	echo "services: starting redis-server on 127.0.0.1:6379"
	redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
	echo "services: starting PostgreSQL"
	pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi

for _ in $(seq 1 60); do
	redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432 && break
	sleep 0.5
done
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
pg_isready -q -h 127.0.0.1 -p 5432

# A freshly installed cluster has neither trust auth on loopback nor the
# database the tests use.
if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
	echo "services: configuring PostgreSQL (trust on loopback, database test)"
	hba=$(runuser -u postgres -- psql -Atc 'show hba_file')
	grep -q '^host all all 127.0.0.1/32 trust' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
	runuser -u postgres -- psql -qc 'select pg_reload_conf()' >/dev/null
	runuser -u postgres -- psql -Atc "select 1 from pg_database where datname='test'" | grep -q 1 ||
		runuser -u postgres -- createdb test
	psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null
fi
