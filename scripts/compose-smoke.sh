#!/usr/bin/env bash
# make compose-smoke: build the image, bring the three fakes up with docker
# compose, wait for their health checks, make one round trip through the
# published ports (an Azure AD token, a Table API read, recommended
# solutions through the app), and tear everything down. Without a reachable
# Docker engine it says "skipped" and exits 0. docs/compose.md explains it.
#
# COMPOSE_NETWORK=host uses host networking (docker-compose.host.yml), for
# engines without a bridge network.
set -euo pipefail
cd "$(dirname "$0")/.."

skip() { echo "compose-smoke: skipped: $*"; exit 0; }
command -v docker >/dev/null 2>&1 || skip "no docker client on this machine"
docker info >/dev/null 2>&1 || skip "no Docker engine is reachable (docs/compose.md shows how to start one)"
if docker compose version >/dev/null 2>&1; then
	compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
	compose=(docker-compose)
else
	skip "neither 'docker compose' nor docker-compose is installed"
fi
command -v curl >/dev/null 2>&1 || { echo "compose-smoke: needs curl" >&2; exit 1; }

files=(-f docker-compose.yml -f docker-compose.override.yml)
if [ "${COMPOSE_NETWORK:-}" = host ]; then
	files=(-f docker-compose.yml -f docker-compose.host.yml)
	export M365SNOW_AAD_ADDR=127.0.0.1:8081 M365SNOW_SNOW_ADDR=127.0.0.1:8080 M365SNOW_M365_ADDR=127.0.0.1:8082
	export M365SNOW_LISTEN_HOST=127.0.0.1
fi
export M365SNOW_WORLD=integrated-basic
# The control planes need a token (the fakes listen beyond loopback inside
# their containers); a fresh one per run.
M365SNOW_ADMIN_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export M365SNOW_ADMIN_TOKEN
dc() { "${compose[@]}" -p m365snow-smoke "${files[@]}" "$@"; }
trap 'dc down --remove-orphans >/dev/null 2>&1 || true' EXIT

make build
dc build

up() { # up: start the services of $M365SNOW_WORLD and wait until all are healthy
	local started=$SECONDS created
	dc up -d
	created=$((SECONDS - started))
	for svc in fakeaad fakesnow fakem365; do
		id=$(dc ps -q "$svc")
		status=starting
		for _ in $(seq 1 120); do
			status=$(docker inspect -f '{{.State.Health.Status}}' "$id")
			[ "$status" = healthy ] && break
			[ "$status" = unhealthy ] && break
			[ "$(docker inspect -f '{{.State.Status}}' "$id")" = exited ] && status=exited && break
			sleep 0.25
		done
		if [ "$status" != healthy ]; then
			echo "compose-smoke: $M365SNOW_WORLD: $svc is $status" >&2
			dc logs "$svc" >&2
			exit 1
		fi
	done
	echo "compose-smoke: $M365SNOW_WORLD: fakeaad, fakesnow, fakem365 healthy after $((SECONDS - started)) s (of which $created s for up -d to create and start the containers)"
}
up

check() { # check NAME EXPECTED-SUBSTRING CURL-ARGS...
	local name=$1 want=$2 out
	shift 2
	if ! out=$(curl -sS --max-time 10 "$@"); then
		echo "compose-smoke: $name: request failed" >&2
		exit 1
	fi
	if [[ $out != *"$want"* ]]; then
		echo "compose-smoke: $name: want $want in: $out" >&2
		dc logs >&2
		exit 1
	fi
	echo "compose-smoke: $name ok"
}

check "Azure AD token" '"access_token"' http://127.0.0.1:8081/contoso.onmicrosoft.com/oauth2/token \
	--data-urlencode grant_type=client_credentials \
	--data-urlencode client_id=1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61 \
	--data-urlencode 'client_secret=Out8Q~ContosoOutboundSecret.000000000000' \
	--data-urlencode resource=https://connector.rave.microsoft.com
check "Table API" '"number":"INC0010001"' -u 'admin:Snow-Admin-1!' \
	'http://127.0.0.1:8080/api/now/table/incident?sysparm_fields=number&sysparm_query=ORDERBYnumber&sysparm_limit=1'
check "recommended solutions" '"title":"Mail is not syncing on mobile devices"' -u 'admin:Snow-Admin-1!' -X POST \
	http://127.0.0.1:8080/api/x_mioms_m365_assis/v1/incidents/INC0010001/solutions
# Proxy mode (issue 16): fakesnow's forward proxy serves the real host names
# of all three fakes to a client that trusts the CA it hands out.
ca=$(mktemp)
trap 'rm -f "$ca"; dc down --remove-orphans >/dev/null 2>&1 || true' EXIT
curl -sS --max-time 10 -o "$ca" http://127.0.0.1:3128/ca.pem
check "proxy: Azure AD token" '"access_token"' --proxy http://127.0.0.1:3128 --cacert "$ca" \
	https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token \
	--data-urlencode grant_type=client_credentials \
	--data-urlencode client_id=1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61 \
	--data-urlencode 'client_secret=Out8Q~ContosoOutboundSecret.000000000000' \
	--data-urlencode scope=https://graph.microsoft.com/.default
check "proxy: Table API" '"number":"INC0010001"' --proxy http://127.0.0.1:3128 --cacert "$ca" -u 'admin:Snow-Admin-1!' \
	'https://dev12345.service-now.com/api/now/table/incident?sysparm_fields=number&sysparm_query=ORDERBYnumber&sysparm_limit=1'
check "proxy: the connector" 'HTTP/' --proxy http://127.0.0.1:3128 --cacert "$ca" -o /dev/null -w 'HTTP/%{http_version} %{http_code}' \
	https://connector.rave.microsoft.com/
refused=$(curl -sS -v --max-time 10 --proxy http://127.0.0.1:3128 https://example.com/ 2>&1 || true)
if [[ $refused != *"403 m365snow proxy refuses example.com"* ]]; then
	echo "compose-smoke: proxy: example.com was not refused: $refused" >&2
	exit 1
fi
echo "compose-smoke: proxy: other hosts refused ok"
# The control plane: refused without the token and from a foreign Origin,
# served with the token.
check "control plane without token" '"error":"the control plane needs the admin token' http://127.0.0.1:8081/__admin/clock
check "control plane from a foreign Origin" 'cross-origin' -H "Authorization: Bearer $M365SNOW_ADMIN_TOKEN" \
	-H 'Origin: https://attacker.example' -X POST http://127.0.0.1:8080/__admin/reset
check "control plane with token" '"now"' -H "Authorization: Bearer $M365SNOW_ADMIN_TOKEN" http://127.0.0.1:8082/__admin/clock

# Compose applies a world's induce: list like the sandbox (issue 16): the
# troubleshooting worlds show their symptom. Row 9 is induced on the
# instance; row 3 by the Microsoft 365 admin, with a token from fakeaad.
for world in troubleshooting-9 troubleshooting-3; do
	dc down --remove-orphans >/dev/null 2>&1
	export M365SNOW_WORLD=$world
	up
	case $world in
	troubleshooting-9)
		check "$world: nothing shows up" '"solutions":[]}}' -u 'admin:Snow-Admin-1!' -X POST \
			http://127.0.0.1:8080/api/x_mioms_m365_assis/v1/incidents/INC0010001/solutions
		check "$world: the outbound log shows Azure AD's 401" 'AADSTS7000215' -u 'admin:Snow-Admin-1!' \
			'http://127.0.0.1:8080/api/now/table/sys_outbound_http_log?sysparm_fields=http_status,response_body&sysparm_query=hostnameLIKElogin.microsoftonline.com' ;;
	troubleshooting-3)
		check "$world: the final set up step" 'complete the final set up step for the app' -u 'admin:Snow-Admin-1!' -X POST \
			http://127.0.0.1:8080/api/x_mioms_m365_assis/v1/incidents/INC0010001/solutions ;;
	esac
done
echo "compose-smoke: ok"
