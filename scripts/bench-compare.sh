#!/usr/bin/env bash
# Side-by-side load test (docs/benchmarks.md): the Table API of fakesnow
# against json-server, and fakeaad's token endpoint against Node's
# oauth2-mock-server, in one run on this machine, with wrk.
#
# Needs wrk (Debian: apt-get install wrk), Node.js and npm. The Node servers
# are installed into a temporary directory from the npm registry and nothing
# of them is kept.
#
#   scripts/bench-compare.sh            # 10 s per target
#   DURATION=30s scripts/bench-compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
THREADS=${THREADS:-2}
for tool in wrk node npm curl; do
	command -v "$tool" >/dev/null || { echo "bench-compare: needs $tool" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

make build >/dev/null
(cd "$work" && npm init -y >/dev/null 2>&1 && npm install --silent json-server@0.17.4 oauth2-mock-server@8.2.3 >/dev/null 2>&1)

# The same 100 incidents for both Table API servers.
python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
incidents = [{"short_description": f"Benchmark incident {i}", "description": "Generated for the side-by-side load test.",
              "caller": "fred.luddy", "state": "1", "priority": "3", "category": "software"} for i in range(100)]
with open(f"{work}/world.yaml", "w") as f:
    f.write("description: benchmark world\nextends: sandbox\nsnow:\n  incidents:\n")
    for inc in incidents:
        f.write("    - " + json.dumps(inc) + "\n")
rows = [dict(inc, id=i + 1, number=f"INC{10001 + i:07d}", active="true") for i, inc in enumerate(incidents)]
json.dump({"incident": rows}, open(f"{work}/db.json", "w"))
EOF

wait_up() { # wait_up URL
	for _ in $(seq 1 200); do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.05
	done
	echo "bench-compare: $1 did not come up" >&2
	exit 1
}

bin/fakesnow --listen 127.0.0.1:18080 --fixture "$work/world.yaml" --log-level error 2>/dev/null &
pids+=($!)
bin/fakeaad --listen 127.0.0.1:18081 --fixture sandbox --log-level error 2>/dev/null &
pids+=($!)
(cd "$work" && exec node node_modules/json-server/lib/cli/bin.js --quiet --port 18090 db.json) >/dev/null 2>&1 &
pids+=($!)
(cd "$work" && exec node node_modules/oauth2-mock-server/dist/oauth2-mock-server.mjs -a 127.0.0.1 -p 18091) >/dev/null 2>&1 &
pids+=($!)
wait_up http://127.0.0.1:18080/healthz
wait_up http://127.0.0.1:18081/healthz
wait_up http://127.0.0.1:18090/incident
wait_up http://127.0.0.1:18091/.well-known/openid-configuration

# fakesnow: an admin's UI session, as a browser or the sandbox's curl steps
# hold it; the password check is not part of every request.
cookie=$(curl -s -D - -o /dev/null http://127.0.0.1:18080/login.do \
	--data-urlencode user_name=admin --data-urlencode 'user_password=Snow-Admin-1!' |
	sed -n 's/^Set-Cookie: \(JSESSIONID=[^;]*\).*/\1/ip')
# A REST call in a UI session carries the session's token too (KB0565021):
# the page's g_ck, sent as X-UserToken, as the instance's own pages do.
gck=$(curl -s -H "Cookie: $cookie" http://127.0.0.1:18080/navpage.do | sed -n "s/.*var g_ck = '\([^']*\)'.*/\1/p")
[[ -n "$gck" ]] || { echo "bench-compare: no session token (g_ck) from /navpage.do" >&2; exit 1; }

cat >"$work/token.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = os.getenv("BODY")
EOF

rate() { # rate NAME WRK-ARGS...
	local name=$1
	shift
	local out
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@")
	printf '%-52s %12s req/s   p50 %8s   p99 %8s\n' "$name" \
		"$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
		"$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
	if grep -q 'Non-2xx' <<<"$out"; then
		echo "bench-compare: $name answered errors:" >&2
		grep 'Non-2xx' <<<"$out" >&2
		exit 1
	fi
}

echo "wrk -t$THREADS -c$CONNS -d$DURATION, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
rate "fakesnow  GET /api/now/table/incident (10 of 100)" -H "Cookie: $cookie" -H "X-UserToken: $gck" \
	'http://127.0.0.1:18080/api/now/table/incident?sysparm_query=active%3Dtrue&sysparm_limit=10'
rate "json-server GET /incident (10 of 100)" \
	'http://127.0.0.1:18090/incident?active=true&_limit=10'
BODY='grant_type=client_credentials&client_id=1f9c2e4a-6b8d-4f0e-a2c4-6e8a0c2e4f61&client_secret=Out8Q~ContosoOutboundSecret.000000000000&resource=https%3A%2F%2Fconnector.rave.microsoft.com' \
	rate "fakeaad   POST /{tenant}/oauth2/token (client credentials)" -s "$work/token.lua" \
	http://127.0.0.1:18081/contoso.onmicrosoft.com/oauth2/token
BODY='grant_type=client_credentials&client_id=bench&client_secret=bench&scope=connector' \
	rate "oauth2-mock-server POST /token (client credentials)" -s "$work/token.lua" \
	http://127.0.0.1:18091/token
